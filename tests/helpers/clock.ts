/**
 * The day the suite runs on, for models' retirement dates: the gateway and the fake upstream both read it,
 * so a test of gpt-4o-mini keeps passing after OpenAI shuts gpt-4o-mini down (2027-01-14).
 */
export const TEST_TODAY = new Date('2026-12-03T12:00:00Z')

export const testClock = () => TEST_TODAY
