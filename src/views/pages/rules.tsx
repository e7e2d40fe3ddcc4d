import { RULES_IDS, RulesWorkspace } from '../fragments/rules'
import { RoutingTestResult, SimulationView } from '../fragments/rules-results'
import { Layout, type ViewUser } from '../layout'

interface RulesPageProps {
	user: ViewUser
	workspace: Parameters<typeof RulesWorkspace>[0]
	logPromptText: boolean
	rulesPath: string
}

export function RulesPage({ user, workspace, logPromptText, rulesPath }: RulesPageProps) {
	return (
		<Layout title="Routing rules" user={user} active="rules">
			<section class="card notice">
				<p>
					Requests for <code>model: "auto"</code> go to the first tier whose rule holds. The live document is{' '}
					<code safe>{rulesPath}</code>: edits saved here or made to the file by hand take effect for the next
					request, and every version is kept below.
				</p>
				<p class="hint">
					{logPromptText
						? 'Prompt text logging is on (LOG_PROMPT_TEXT): simulations replay keyword, matches and system rules too.'
						: 'Prompt text logging is off (LOG_PROMPT_TEXT=false): simulations use each request’s stored features and tokens; requests whose decision needs text rules count as not evaluated.'}
				</p>
			</section>
			<RulesWorkspace {...workspace} />
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
