// Switchyard's own browser code: no build step, no inline scripts (the CSP forbids them).

// Copy buttons: <button data-copy="#element-id"> copies that element's text.
document.addEventListener('click', async (event) => {
	const button = event.target instanceof Element ? event.target.closest('[data-copy]') : null
	if (!button) return
	const source = document.querySelector(button.getAttribute('data-copy'))
	if (!source) return
	const text = source.textContent.trim()
	try {
		await navigator.clipboard.writeText(text)
	} catch {
		// The Clipboard API needs a secure context; over plain http select the text for Ctrl+C instead.
		const range = document.createRange()
		range.selectNodeContents(source)
		const selection = window.getSelection()
		selection.removeAllRanges()
		selection.addRange(range)
		document.execCommand('copy')
	}
	const label = button.textContent
	button.textContent = 'Copied'
	setTimeout(() => {
		button.textContent = label
	}, 1500)
})

// Closing a request's drawer goes back to the list it was opened from (htmx pushed the request's URL).
document.addEventListener('click', (event) => {
	const button = event.target instanceof Element ? event.target.closest('[data-close-drawer]') : null
	const drawer = button?.closest('.drawer')
	if (!drawer) return
	drawer.replaceChildren()
	history.back()
})

// Plain HTTP from another machine: the layout's warning is shown. Loopback addresses are this machine.
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])
document.addEventListener('DOMContentLoaded', () => {
	if (location.protocol !== 'http:' || LOOPBACK_HOSTS.has(location.hostname)) return
	for (const warning of document.querySelectorAll('[data-plain-http-warning]')) warning.hidden = false
})

// The rules editor: a textarea that indents with Tab and can re-format its JSON.
document.addEventListener('alpine:init', () => {
	window.Alpine.data('jsonEditor', () => ({
		onKey(event) {
			if (event.key !== 'Tab') return
			event.preventDefault()
			const area = event.target
			const { selectionStart, selectionEnd, value } = area
			area.value = `${value.slice(0, selectionStart)}\t${value.slice(selectionEnd)}`
			area.selectionStart = area.selectionEnd = selectionStart + 1
		},
		format() {
			const area = this.$root.querySelector('textarea')
			try {
				area.value = `${JSON.stringify(JSON.parse(area.value), null, '\t')}\n`
				area.dispatchEvent(new Event('input', { bubbles: true }))
			} catch {
				// Invalid JSON stays as typed; the validation below the editor says why.
			}
		},
	}))
})

// The overview's cost chart: the series arrive as JSON in data-series (never interpolated into a script).
document.addEventListener('alpine:init', () => {
	window.Alpine.data('costChart', () => ({
		chart: null,
		init() {
			const series = JSON.parse(this.$el.dataset.series)
			// Per-day amounts are often fractions of a cent: a fixed number of decimals would label several
			// ticks alike ($0.0001, $0.0001…), so small amounts keep three significant digits instead.
			const cents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })
			const small = new Intl.NumberFormat('en-US', {
				style: 'currency',
				currency: 'USD',
				maximumSignificantDigits: 3,
			})
			const usd = (value) => (value === 0 || Math.abs(value) >= 1 ? cents : small).format(value)
			this.chart = new window.Chart(this.$el.querySelector('canvas'), {
				type: 'line',
				data: {
					labels: series.labels,
					datasets: [
						{
							label: 'Cost',
							data: series.cost,
							borderColor: '#2457d6',
							backgroundColor: '#2457d6',
						},
						{
							label: 'Cost without routing',
							data: series.baseline,
							borderColor: '#9aa5b4',
							backgroundColor: '#9aa5b4',
							borderDash: [6, 4],
						},
					],
				},
				options: {
					responsive: true,
					maintainAspectRatio: false,
					animation: false,
					interaction: { mode: 'index', intersect: false },
					scales: { y: { beginAtZero: true, ticks: { callback: usd } } },
					plugins: {
						tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${usd(item.parsed.y)}` } },
					},
				},
			})
		},
		destroy() {
			this.chart?.destroy()
		},
	}))
})
