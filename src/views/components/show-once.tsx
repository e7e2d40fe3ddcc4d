import type { PropsWithChildren } from '@kitajs/html'

/**
 * A secret or a link shown only once (a new gateway key, an invite link): what it is, the value, and a copy
 * button. `children` says what it is; the value is escaped here.
 */
export function ShowOnce({ id, value, children }: PropsWithChildren<{ id: string; value: string }>) {
	return (
		<div class="new-key" role="status">
			<p>{children}</p>
			<div class="copy-row">
				<code id={id} safe>
					{value}
				</code>
				<button type="button" class="small" data-copy={`#${id}`}>
					Copy
				</button>
			</div>
		</div>
	)
}
