// Test helpers for stacks built with Slipway: run a program under Pulumi mocks and assert on what
// it registers (type, inputs, options such as protect), with plausible provider outputs.
export { Recorder, RecordedResource, RecorderOptions, isSecretValue, redact, valueOf, secretness, UNKNOWN } from "./recorder";
export { fakeProviderOutputs } from "./fakes";
