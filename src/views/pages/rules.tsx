import type { InstanceView } from '../../runtime/instances'
import { formatDateTime } from '../format'
import { RULES_IDS, RulesWorkspace } from '../fragments/rules'
import { RoutingTestResult, SimulationView } from '../fragments/rules-results'
import { Layout, type ViewUser } from '../layout'

interface RulesPageProps {
	user: ViewUser
	workspace: Parameters<typeof RulesWorkspace>[0]
	/** The servers on this database, with the revision each routes with. */
	instances: InstanceView[]
	logPromptText: boolean
	logTextDigest: boolean
	/** The rules file; null when the rules live in the database (PostgreSQL), shared by every instance. */
	rulesPath: string | null
}

/** What a simulation can replay, given what the log keeps of each request's text. */
function replayNote(logPromptText: boolean, logTextDigest: boolean): string {
	if (logPromptText)
		return 'Prompt text logging is on (LOG_PROMPT_TEXT): simulations replay keyword, matches and system rules from the first 2,000 characters kept.'
	if (logTextDigest)
		return 'Simulations replay keyword rules, and matches and system patterns that were live when a request came, from a keyed digest of its text (LOG_TEXT_DIGEST); no readable text is kept. A new pattern needs newer requests; what could not be replayed is counted per rule.'
	return 'Neither text nor its digest is logged (LOG_PROMPT_TEXT and LOG_TEXT_DIGEST are off): simulations replay rules on features and tokens only, and count the requests each text rule leaves undecided.'
}

/** What a server's request log held back or gave up, in words; a silent server lost about what it held. */
function logHealth({ pendingRows, droppedRows, silent }: InstanceView): string {
	const dropped = droppedRows > 0 ? `${droppedRows} rows dropped` : 'none dropped'
	if (silent)
		return `${dropped}; its unwritten rows were lost when it stopped (${pendingRows} when last heard from)`
	return `${pendingRows} waiting · ${dropped}`
}

/** Which rules revision each server runs: after a save, all of them should show it within a second. */
function Instances({ instances, liveRevision }: { instances: InstanceView[]; liveRevision: number }) {
	return (
		<table class="table">
			<thead>
				<tr>
					<th>Server</th>
					<th>Rules revision</th>
					<th>Started</th>
					<th>Last heard from</th>
					<th>Request log</th>
				</tr>
			</thead>
			<tbody>
				{instances.map((instance) => (
					<tr>
						<td data-label="Server">
							<span safe>{`${instance.host} (pid ${instance.pid})`}</span>
							{instance.self ? <span class="badge">this one</span> : ''}
						</td>
						<td
							data-label="Rules revision"
							class={instance.rulesRevision === liveRevision ? 'status-ok' : 'status-warn'}
						>
							{instance.rulesRevision ?? 'none'}
						</td>
						<td data-label="Started" safe>
							{formatDateTime(instance.startedAt)}
						</td>
						<td data-label="Last heard from" class={instance.silent ? 'status-bad' : undefined}>
							<span safe>{formatDateTime(instance.lastSeenAt)}</span>
							{instance.silent ? ' (silent: stopped without leaving)' : ''}
						</td>
						<td data-label="Request log" class={instance.droppedRows > 0 ? 'status-bad' : undefined} safe>
							{logHealth(instance)}
						</td>
					</tr>
				))}
			</tbody>
		</table>
	)
}

export function RulesPage({
	user,
	workspace,
	instances,
	logPromptText,
	logTextDigest,
	rulesPath,
}: RulesPageProps) {
	return (
		<Layout title="Routing rules" user={user} active="rules">
			<section class="card notice">
				{rulesPath === null ? (
					<p>
						Requests for <code>model: "auto"</code> go to the first tier whose rule holds. The live document
						is kept in the database: edits saved here take effect on every instance for its next request, and
						every version is kept below.
					</p>
				) : (
					<p>
						Requests for <code>model: "auto"</code> go to the first tier whose rule holds. The live document
						is <code safe>{rulesPath}</code>: edits saved here or made to the file by hand take effect for the
						next request, and every version is kept below.
					</p>
				)}
				<p class="hint" safe>
					{replayNote(logPromptText, logTextDigest)}
				</p>
			</section>
			<RulesWorkspace {...workspace} />
			<section class="card">
				<h2>Servers</h2>
				<p class="hint">
					Each server on this database and the rules revision it routes with. After a save, every one shows
					the new revision within a second; one in orange has not taken it yet.
				</p>
				<Instances instances={instances} liveRevision={workspace.liveRevision} />
			</section>
			<section class="card">
				<h2>Test a prompt</h2>
				<form
					class="stack"
					method="post"
					action="/rules/test"
					hx-post="/rules/test"
					hx-target={`#${RULES_IDS.testResult}`}
					hx-swap="outerHTML"
					hx-include={`#${RULES_IDS.text}`}
				>
					<label>
						System prompt (optional)
						<textarea name="system" rows="2" />
					</label>
					<label>
						User message
						<textarea name="prompt" rows="4" required />
					</label>
					<div class="checks">
						<label class="check">
							<input type="checkbox" name="tools" value="1" /> with tools
						</label>
						<label class="check">
							<input type="checkbox" name="image" value="1" /> with an image
						</label>
						<label class="check">
							<input type="checkbox" name="json" value="1" /> JSON mode
						</label>
						<label class="check">
							<input type="checkbox" name="draft" value="1" checked /> use the edited rules
						</label>
					</div>
					<button type="submit" class="primary">
						Test
					</button>
				</form>
				<RoutingTestResult outcome={{ kind: 'empty' }} />
			</section>
			<section class="card">
				<h2>Simulate against history</h2>
				<p class="hint">Replays logged auto requests through the edited rules and compares the cost.</p>
				<form
					class="inline-form"
					method="post"
					action="/rules/simulate"
					hx-post="/rules/simulate"
					hx-target={`#${RULES_IDS.simulation}`}
					hx-swap="outerHTML"
					hx-include={`#${RULES_IDS.text}`}
				>
					<label>
						Period
						<select name="days">
							<option value="1">Last 24 hours</option>
							<option value="7" selected>
								Last 7 days
							</option>
							<option value="30">Last 30 days</option>
							<option value="90">Last 90 days</option>
						</select>
					</label>
					<button type="submit" class="primary">
						Simulate
					</button>
				</form>
				<SimulationView outcome={{ kind: 'empty' }} />
			</section>
		</Layout>
	)
}
