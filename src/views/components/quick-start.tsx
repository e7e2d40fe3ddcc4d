interface QuickStartProps {
	/** This server's OpenAI-compatible base URL, e.g. `http://localhost:3000/v1`. */
	baseUrl: string
	hasKeys: boolean
	/** The providers this user can already reach (their own keys or the organisation's), by name. */
	readyProviders: string[]
}

/** The next step for a newcomer: a key, then one changed line in their OpenAI client. */
export function QuickStart({ baseUrl, hasKeys, readyProviders }: QuickStartProps) {
	const ready = readyProviders.join(' and ')
	const curl = `curl ${baseUrl}/chat/completions \\
  -H "Authorization: Bearer $SWITCHYARD_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "auto", "messages": [{"role": "user", "content": "Hello!"}]}'`
	const sdk = `import OpenAI from 'openai'

const client = new OpenAI({ baseURL: '${baseUrl}', apiKey: process.env.SWITCHYARD_KEY })
const reply = await client.chat.completions.create({
  model: 'auto',
  messages: [{ role: 'user', content: 'Hello!' }],
})`
	return (
		<section class="card quick-start">
			<h2>Send your first request</h2>
			<ol>
				<li>
					{hasKeys && ready ? (
						<span
							safe
						>{`You have a gateway key, and ${ready} can be reached. Use the key as your OpenAI API key.`}</span>
					) : ready ? (
						<>
							<a href="/keys">Create a gateway key</a>
							<span safe>{`: ${ready} can already be reached, with the organisation's provider keys.`}</span>
						</>
					) : hasKeys ? (
						<>
							You have a gateway key; <a href="/keys">save a provider key</a> (OpenAI or Anthropic) so that it
							can reach a model.
						</>
					) : (
						<>
							<a href="/keys">Create a gateway key</a> and save a provider key (OpenAI or Anthropic) on the
							same page.
						</>
					)}
				</li>
				<li>Point your OpenAI client at this server:</li>
			</ol>
			<pre>
				<code safe>{curl}</code>
			</pre>
			<pre>
				<code safe>{sdk}</code>
			</pre>
		</section>
	)
}
