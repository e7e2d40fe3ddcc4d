import type { UserView } from '../../auth/accounts'
import type { BudgetView } from '../../budgets/budget-views'
import { BudgetBar, BudgetFields } from '../components/budget-bar'
import { ErrorBanner } from '../components/error-banner'
import { ShowOnce } from '../components/show-once'
import { formatDateTime, formatUsd } from '../format'

/** A user as the Users page lists them: with their spend of the last 30 days. */
export interface UserRowView extends UserView {
	spentUsd30d: number
}

/** An invite link just made: shown once, with what it allows. */
export interface CreatedInvite {
	url: string
	expiresAt: Date
	email: string | null
	role: string
}

/** The section every form on the Users page re-renders. */
const SECTION_ID = 'users'
const INVITE_URL_ID = 'invite-url'

const SECTION_TARGET = { 'hx-target': `#${SECTION_ID}`, 'hx-swap': 'outerHTML' } as const

function UserActions({ user, self }: { user: UserRowView; self: boolean }) {
	if (self) return <span class="hint">you</span>
	const otherRole = user.role === 'admin' ? 'developer' : 'admin'
	return (
		<div class="row-actions">
			<form method="post" action={`/users/${user.id}`} hx-post={`/users/${user.id}`} {...SECTION_TARGET}>
				<input type="hidden" name="role" value={otherRole} />
				<button type="submit" class="small">
					{otherRole === 'admin' ? 'Make admin' : 'Make developer'}
				</button>
			</form>
			<form
				method="post"
				action={`/users/${user.id}`}
				hx-post={`/users/${user.id}`}
				hx-confirm={
					user.active ? 'Deactivate this user? Their sessions and gateway keys stop at once.' : undefined
				}
				{...SECTION_TARGET}
			>
				<input type="hidden" name="active" value={user.active ? 'false' : 'true'} />
				<button type="submit" class={user.active ? 'danger small' : 'small'}>
					{user.active ? 'Deactivate' : 'Reactivate'}
				</button>
			</form>
		</div>
	)
}

function NewInvitePanel({ invite }: { invite: CreatedInvite }) {
	return (
		<ShowOnce id={INVITE_URL_ID} value={invite.url}>
			Send this link to <strong safe>{invite.email ?? 'the person you invite'}</strong>. It signs up one{' '}
			<span safe>{invite.role}</span> and works until <span safe>{formatDateTime(invite.expiresAt)}</span>. It
			is shown only now.
		</ShowOnce>
	)
}

/** A user's budgets with their bars, and the admin's form to set them (open when the last try was refused). */
function UserBudgets({
	user,
	budgets,
	error,
}: {
	user: UserRowView
	budgets: readonly BudgetView[]
	error?: string
}) {
	const url = `/users/${user.id}/budgets`
	return (
		<div class="limits">
			{budgets.length === 0 ? <div class="hint">No budget</div> : ''}
			{budgets.map((budget) => (
				<BudgetBar budget={budget} />
			))}
			{error ? <ErrorBanner message={error} /> : ''}
			<details class="limits-edit" open={error !== undefined}>
				<summary>Set budgets</summary>
				<form class="limits-form" method="post" action={url} hx-post={url} {...SECTION_TARGET}>
					<BudgetFields budgets={budgets} />
					<button type="submit" class="primary small">
						Save budgets
					</button>
				</form>
			</details>
		</div>
	)
}

interface UsersSectionProps {
	users: UserRowView[]
	/** Each user's budgets, by user id. */
	budgets?: ReadonlyMap<number, readonly BudgetView[]>
	/** The budget form the last try refused, and why. */
	budgetsError?: { userId: number; message: string }
	/** The admin looking at the page, who cannot demote or deactivate themselves. */
	selfId: number
	invite?: CreatedInvite
	error?: string
}

export function UsersSection({ users, budgets, budgetsError, selfId, invite, error }: UsersSectionProps) {
	return (
		<section id={SECTION_ID} class="card">
			<h2>Users</h2>
			<form class="inline-form" method="post" action="/invites" hx-post="/invites" {...SECTION_TARGET}>
				<label>
					Email (optional)
					<input name="email" type="email" placeholder="anyone with the link" />
				</label>
				<label>
					Role
					<select name="role">
						<option value="developer" selected>
							developer
						</option>
						<option value="admin">admin</option>
					</select>
				</label>
				<button type="submit" class="primary">
					Make an invite link
				</button>
			</form>
			{error ? <ErrorBanner message={error} /> : ''}
			{invite ? <NewInvitePanel invite={invite} /> : ''}
			<table class="table">
				<thead>
					<tr>
						<th>Email</th>
						<th>Role</th>
						<th>Status</th>
						<th>Spend, 30 days</th>
						<th>Budgets</th>
						<th>Since</th>
						<th />
					</tr>
				</thead>
				<tbody>
					{users.map((user) => (
						<tr class={user.active ? '' : 'revoked'}>
							<td data-label="Email" safe>
								{user.email}
							</td>
							<td data-label="Role">{user.role}</td>
							<td data-label="Status">{user.active ? 'active' : 'deactivated'}</td>
							<td data-label="Spend, 30 days" safe>
								{formatUsd(user.spentUsd30d)}
							</td>
							<td data-label="Budgets">
								<UserBudgets
									user={user}
									budgets={budgets?.get(user.id) ?? []}
									error={budgetsError?.userId === user.id ? budgetsError.message : undefined}
								/>
							</td>
							<td data-label="Since" safe>
								{formatDateTime(user.createdAt)}
							</td>
							<td>
								<UserActions user={user} self={user.id === selfId} />
							</td>
						</tr>
					))}
				</tbody>
			</table>
		</section>
	)
}
