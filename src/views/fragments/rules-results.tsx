// The results of the Rules page's "Test a prompt" and "Simulate against history" forms.
import type { RuleExplanation } from '../../rules/compile'
import type { RoutingPreview } from '../../rules/preview'
import type { SimulationResult } from '../../rules/simulate'
import type { RuleError } from '../../rules/validate'
import { formatDateTime, formatPercent, formatUsd } from '../format'
import { RULES_IDS, RuleErrors } from './rules'

function ExplanationRows({ rules }: { rules: RuleExplanation[] }) {
	return (
		<>
			{rules.map((rule) => (
				<tr class={`rule-${rule.outcome}`}>
					<td data-label="Rule" safe>
						{rule.name}
					</td>
					<td data-label="Outcome">{rule.outcome}</td>
					<td data-label="Why" safe>
						{rule.reason ?? ''}
					</td>
				</tr>
			))}
		</>
	)
}

/** Why a test or a simulation did not run: the edited rules' problems, or the form's own mistake. */
export type Refusal = { kind: 'invalid-rules'; errors: RuleError[] } | { kind: 'refused'; message: string }

function RefusalView({ refusal, advice }: { refusal: Refusal; advice: string }) {
	if (refusal.kind === 'refused') {
		return (
			<p class="status-bad" safe>
				{refusal.message}
			</p>
		)
	}
	return (
		<>
			<p class="status-bad" safe>
				{advice}
			</p>
			<RuleErrors errors={refusal.errors} checked />
		</>
	)
}

type TestOutcome =
	| { kind: 'empty' }
	| Refusal
	| { kind: 'preview'; preview: RoutingPreview; usedDraft: boolean }

/** The "Test a prompt" result: empty until a test, then the decision or why it could not be made. */
export function RoutingTestResult({ outcome }: { outcome: TestOutcome }) {
	return (
		<div id={RULES_IDS.testResult} class={outcome.kind === 'empty' ? undefined : 'result'}>
			{outcome.kind === 'preview' ? (
				<RoutingPreviewView preview={outcome.preview} usedDraft={outcome.usedDraft} />
			) : outcome.kind === 'empty' ? (
				''
			) : (
				<RefusalView
					refusal={outcome}
					advice={'The edited rules are invalid; fix them or untick "use the edited rules".'}
				/>
			)}
		</div>
	)
}

function RoutingPreviewView({ preview, usedDraft }: { preview: RoutingPreview; usedDraft: boolean }) {
	return (
		<>
			<p>
				<span>{usedDraft ? 'With the edited rules' : 'With the live rules'}</span>: tier{' '}
				<strong safe>{preview.tier}</strong>, decided by <strong safe>{preview.rule}</strong>; first call{' '}
				<strong safe>{preview.wouldCall ?? 'none: every candidate would be skipped'}</strong>.
			</p>
			<h3>Candidates</h3>
			<ol class="candidates">
				{preview.candidates.map((candidate) => (
					<li>
						<code safe>{candidate.model}</code>{' '}
						{candidate.skipped ? (
							<span class="status-bad" safe>{`skipped: ${candidate.skipped}`}</span>
						) : (
							<span class="status-ok">would be tried</span>
						)}
					</li>
				))}
			</ol>
			<h3>Why</h3>
			{preview.explanation.length > 0 ? (
				<table class="table">
					<tbody>
						<ExplanationRows rules={preview.explanation} />
					</tbody>
				</table>
			) : (
				''
			)}
			{preview.rule === 'default' ? <p class="hint">No rule held, so the default tier applies.</p> : ''}
			<h3>Features</h3>
			<pre>
				<code safe>{JSON.stringify(preview.features, null, 2)}</code>
			</pre>
		</>
	)
}

/** What the log kept of the replayed requests' text, in one sentence. */
function textKeptNote({ requests, textKept }: SimulationResult): string {
	const parts = [
		`text digests for ${textKept.digest} of ${requests} (LOG_TEXT_DIGEST)`,
		`readable excerpts for ${textKept.text} (LOG_PROMPT_TEXT)`,
	]
	const neither =
		textKept.neither > 0 ? ` ${textKept.neither} kept neither: only rules on features replay for them.` : ''
	return `The log kept ${parts.join(' and ')}.${neither}`
}

type SimulationOutcome = { kind: 'empty' } | Refusal | { kind: 'result'; result: SimulationResult }

/** The "Simulate against history" result: empty until a run, then the replay or why it could not run. */
export function SimulationView({ outcome }: { outcome: SimulationOutcome }) {
	return (
		<div id={RULES_IDS.simulation} class={outcome.kind === 'empty' ? undefined : 'result'}>
			{outcome.kind === 'result' ? (
				<SimulationSummary result={outcome.result} />
			) : outcome.kind === 'empty' ? (
				''
			) : (
				<RefusalView refusal={outcome} advice="The edited rules are invalid:" />
			)}
		</div>
	)
}

function SimulationSummary({ result }: { result: SimulationResult }) {
	return (
		<>
			<p>
				Replayed <strong>{result.requests}</strong> <code>auto</code> requests from the last {result.days}{' '}
				days: <strong>{result.evaluated}</strong> evaluated, <strong>{result.notEvaluated}</strong> not
				evaluated, <strong>{result.changed}</strong> would change tier.
			</p>
			<p class="hint" safe>
				{textKeptNote(result)}
			</p>
			<h3>Which rules decided these requests (the rules live then)</h3>
			{result.byRule.length === 0 ? (
				<p class="hint">No auto requests in this period.</p>
			) : (
				<table class="table">
					<thead>
						<tr>
							<th>Rule</th>
							<th>Requests</th>
							<th>Cost</th>
							<th>Share of cost</th>
						</tr>
					</thead>
					<tbody>
						{result.byRule.map((hits) => (
							<tr>
								<td data-label="Rule" safe>
									{hits.rule}
								</td>
								<td data-label="Requests">{hits.requests}</td>
								<td data-label="Cost" safe>
									{formatUsd(hits.costUsd)}
								</td>
								<td data-label="Share of cost" safe>
									{formatPercent(hits.costShare)}
								</td>
							</tr>
						))}
					</tbody>
				</table>
			)}
			{result.notEvaluatedByRule.length > 0 ? <UndecidedRules result={result} /> : ''}
			{result.evaluated === 0 ? (
				<p class="status-warn">No request could be evaluated, so these rules have no cost to compare.</p>
			) : (
				<EvaluatedSummary result={result} />
			)}
		</>
	)
}

/** Which rules a replay could not decide, and the predicate each lacked: counted, never folded into a total. */
function UndecidedRules({ result }: { result: SimulationResult }) {
	return (
		<>
			<h3 class="status-warn">{result.notEvaluated} requests could not be evaluated</h3>
			<table class="table">
				<thead>
					<tr>
						<th>Rule</th>
						<th>Needs</th>
						<th>Requests</th>
					</tr>
				</thead>
				<tbody>
					{result.notEvaluatedByRule.map((undecided) => (
						<tr>
							<td data-label="Rule" safe>
								{undecided.rule}
							</td>
							<td data-label="Needs">
								<code safe>{undecided.needs}</code>
							</td>
							<td data-label="Requests">{undecided.requests}</td>
						</tr>
					))}
				</tbody>
			</table>
			<p class="hint">
				A pattern is answered from a request's digest only if it was live when the request came; a new or
				edited pattern needs newer requests, or LOG_PROMPT_TEXT. A keyword is unknown when the message was
				longer than the part digested (32,768 characters).
			</p>
		</>
	)
}

/** The cost comparison and tier counts, over the evaluated requests. */
function EvaluatedSummary({ result }: { result: SimulationResult }) {
	const tiers = [
		...new Set([...Object.keys(result.current.byTier), ...Object.keys(result.proposed.byTier)]),
	].sort()
	const base = result.current.costUsd
	return (
		<>
			<p class="hint">Costs and tiers below cover the {result.evaluated} evaluated requests.</p>
			<table class="table">
				<tbody>
					<tr>
						<th>Cost now</th>
						<td safe>{formatUsd(result.current.costUsd)}</td>
					</tr>
					<tr>
						<th>Cost with these rules</th>
						<td safe>{formatUsd(result.proposed.costUsd)}</td>
					</tr>
					<tr>
						<th>Difference</th>
						<td safe>
							{`${result.costDeltaUsd >= 0 ? '+' : ''}${formatUsd(result.costDeltaUsd)}${base > 0 ? ` (${formatPercent(result.costDeltaUsd / base)})` : ''}`}
						</td>
					</tr>
				</tbody>
			</table>
			<h3>Requests by tier</h3>
			<table class="table">
				<thead>
					<tr>
						<th>Tier</th>
						<th>Now</th>
						<th>With these rules</th>
					</tr>
				</thead>
				<tbody>
					{tiers.map((tier) => (
						<tr>
							<td data-label="Tier" safe>
								{tier}
							</td>
							<td data-label="Now">{result.current.byTier[tier] ?? 0}</td>
							<td data-label="With these rules">{result.proposed.byTier[tier] ?? 0}</td>
						</tr>
					))}
				</tbody>
			</table>
			{result.incapable > 0 ? (
				<>
					<h3 class="status-bad">{result.incapable} requests would go to a tier that cannot serve them</h3>
					<ul>
						{result.incapableRequests.map((request) => (
							<li>
								<span
									safe
								>{`#${request.id} (${formatDateTime(request.createdAt)}) → ${request.tier}: `}</span>
								<span safe>{request.reasons.join('; ')}</span>
							</li>
						))}
					</ul>
				</>
			) : (
				<p class="status-ok">Every evaluated request can be served by its proposed tier.</p>
			)}
		</>
	)
}
