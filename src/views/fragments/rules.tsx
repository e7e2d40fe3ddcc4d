import { escapeHtml } from '@kitajs/html'
import type { RevisionView } from '../../rules/store'
import type { RuleError } from '../../rules/validate'
import type { Workspace } from '../../rules/workbench'
import { formatDateTime } from '../format'

/** The elements this module renders that forms elsewhere on the page target or include. */
export const RULES_IDS = {
	workspace: 'rules-workspace',
	form: 'rules-form',
	errors: 'rules-errors',
	text: 'rules-text',
	testResult: 'rules-test-result',
	simulation: 'rules-simulation',
} as const

/** The validation result shown next to the editor: every problem with its JSON path. */
export function RuleErrors({ errors, checked }: { errors: RuleError[]; checked: boolean }) {
	return (
		<div id={RULES_IDS.errors} class="rule-errors" aria-live="polite">
			{!checked ? (
				''
			) : errors.length === 0 ? (
				<p class="status-ok">Valid rules.</p>
			) : (
				<ul class="error-list">
					{errors.map((error) => (
						<li>
							<code safe>{error.path || '/'}</code> <span safe>{error.message}</span>
						</li>
					))}
				</ul>
			)}
		</div>
	)
}

/** Editor and history: the region a save or a restore re-renders. */
export function RulesWorkspace({ text, errors, liveRevision, history, savedRevision, summary }: Workspace) {
	return (
		<div id={RULES_IDS.workspace} class="rules-workspace">
			<section class="card">
				<h2>Rules document</h2>
				<form
					id={RULES_IDS.form}
					method="post"
					action="/rules/save"
					hx-post="/rules/save"
					hx-target={`#${RULES_IDS.workspace}`}
					hx-swap="outerHTML"
					x-data="jsonEditor"
				>
					<textarea
						id={RULES_IDS.text}
						name="rules"
						class="code-editor"
						spellcheck="false"
						rows="28"
						aria-label="Rules JSON"
						hx-post="/rules/validate"
						hx-trigger="input changed delay:400ms"
						hx-target={`#${RULES_IDS.errors}`}
						hx-swap="outerHTML"
						x-on:keydown="onKey($event)"
						safe
					>
						{text}
					</textarea>
					<RuleErrors errors={errors} checked={errors.length > 0} />
					<div class="actions">
						<button type="button" x-on:click="format()">
							Format
						</button>
						<button type="submit" class="primary">
							Save
						</button>
						<span class="hint">Live: revision {liveRevision}</span>
						{savedRevision ? <span class="status-ok">Saved as revision {savedRevision}.</span> : ''}
					</div>
				</form>
			</section>
			<RulesSummary summary={summary} />
			<RevisionHistory history={history} liveRevision={liveRevision} />
		</div>
	)
}

/** The live rules in order, each in one line: what the JSON says, readable at a glance. */
function RulesSummary({ summary }: { summary: Workspace['summary'] }) {
	return (
		<section class="card">
			<h2>The live rules, in order</h2>
			<p class="hint">
				The first rule that holds decides the tier; when none holds, the default tier applies.
			</p>
			<table class="table">
				<thead>
					<tr>
						<th>Rule</th>
						<th>Tier</th>
						<th>Holds when</th>
					</tr>
				</thead>
				<tbody>
					{summary.map((rule) => (
						<tr
							class={rule.enabled ? '' : 'revoked'}
							title={rule.description ? escapeHtml(rule.description) : undefined}
						>
							<td data-label="Rule" safe>
								{rule.enabled ? rule.name : `${rule.name} (disabled)`}
							</td>
							<td data-label="Tier" safe>
								{rule.tier}
							</td>
							<td data-label="Holds when" safe>
								{rule.when}
							</td>
						</tr>
					))}
				</tbody>
			</table>
		</section>
	)
}

function RevisionHistory({ history, liveRevision }: { history: RevisionView[]; liveRevision: number }) {
	return (
		<section class="card">
			<h2>History</h2>
			<table class="table">
				<thead>
					<tr>
						<th>Revision</th>
						<th>When</th>
						<th>By</th>
						<th>How</th>
						<th />
					</tr>
				</thead>
				<tbody>
					{history.map((revision) => (
						<tr>
							<td data-label="Revision">{revision.revision}</td>
							<td data-label="When" safe>
								{formatDateTime(revision.createdAt)}
							</td>
							<td data-label="By" safe>
								{revision.author}
							</td>
							<td data-label="How">{revision.source}</td>
							<td>
								{revision.revision === liveRevision ? (
									<span class="badge">live</span>
								) : (
									<form
										method="post"
										action={`/rules/history/${revision.revision}/restore`}
										hx-post={`/rules/history/${revision.revision}/restore`}
										hx-target={`#${RULES_IDS.workspace}`}
										hx-swap="outerHTML"
										hx-confirm="Make this revision live again?"
									>
										<button type="submit" class="small">
											Restore
										</button>
									</form>
								)}
							</td>
						</tr>
					))}
				</tbody>
			</table>
		</section>
	)
}
