import type { PropsWithChildren } from '@kitajs/html'
import type { Role } from '../../db/schema'

export interface ViewUser {
	id: number
	email: string
	role: Role
}

export type NavSection = 'overview' | 'requests' | 'keys' | 'rules' | 'users'

interface LayoutProps {
	title: string
	user?: ViewUser
	active?: NavSection
}

interface NavItem {
	section: NavSection
	href: string
	label: string
	adminOnly?: boolean
}

const NAV: NavItem[] = [
	{ section: 'overview', href: '/', label: 'Overview' },
	{ section: 'requests', href: '/requests', label: 'Requests' },
	{ section: 'keys', href: '/keys', label: 'Keys' },
	{ section: 'rules', href: '/rules', label: 'Rules', adminOnly: true },
	{ section: 'users', href: '/users', label: 'Users', adminOnly: true },
]

// htmx 4 injects its indicator CSS as an inline <style>, which our CSP forbids; app.css carries it instead.
const HTMX_CONFIG = JSON.stringify({ includeIndicatorCSS: false })

function Sidebar({ user, active }: { user: ViewUser; active?: NavSection }) {
	return (
		<nav class="sidebar" x-data="{ open: false }" aria-label="Main">
			<div class="sidebar-head">
				<a class="brand" href="/">
					Switchyard
				</a>
				<button class="menu-toggle" type="button" x-on:click="open = !open" aria-label="Menu">
					☰
				</button>
			</div>
			<ul class="nav" x-bind:class="open && 'nav-open'">
				{NAV.filter((item) => !item.adminOnly || user.role === 'admin').map((item) => (
					<li>
						<a href={item.href} class={item.section === active ? 'active' : ''} safe>
							{item.label}
						</a>
					</li>
				))}
			</ul>
		</nav>
	)
}

function Header({ user, title }: { user: ViewUser; title: string }) {
	return (
		<header class="header">
			<h1 safe>{title}</h1>
			<div class="header-user">
				<span class="user-email" safe>
					{user.email}
				</span>
				{user.role === 'admin' ? <span class="badge">admin</span> : ''}
				<form method="post" action="/logout">
					<button type="submit" class="link-button">
						Log out
					</button>
				</form>
			</div>
		</header>
	)
}

/** The only full HTML document; every page renders inside it. */
export function Layout({ title, user, active, children }: PropsWithChildren<LayoutProps>) {
	return (
		<html lang="en">
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<meta name="htmx-config" content={HTMX_CONFIG} />
				<title safe>{`${title} · Switchyard`}</title>
				<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
				<link rel="stylesheet" href="/assets/app.css" />
				<script src="/assets/htmx.js" defer></script>
				<script src="/assets/chart.js" defer></script>
				<script src="/assets/app.js" defer></script>
				<script src="/assets/alpine.js" defer></script>
			</head>
			<body>
				<PlainHttpWarning />
				{user ? (
					<div class="shell">
						<Sidebar user={user} active={active} />
						<div class="main">
							<Header user={user} title={title} />
							<main id="content">{children}</main>
						</div>
					</div>
				) : (
					<main class="auth-main">{children}</main>
				)}
			</body>
		</html>
	)
}

/**
 * Shown by app.js when the dashboard is open over plain HTTP from another machine: passwords and session
 * cookies then cross the network unencrypted. Only the browser knows the address it used.
 */
function PlainHttpWarning() {
	return (
		<div class="plain-http-warning" role="alert" hidden data-plain-http-warning>
			This dashboard is open over plain HTTP: passwords and sessions cross the network unencrypted. Put
			Switchyard behind HTTPS (see the README's "Behind a reverse proxy").
		</div>
	)
}
