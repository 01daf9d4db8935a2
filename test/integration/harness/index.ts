export * from "./harness";
export * from "./images";
export { Engine, EngineError } from "./engine";
export { planResources, autoName, durationNs, UnsupportedInputError, RUN_LABEL, LOGICAL_LABEL, TYPES } from "./translate";
export type { Plan, ContainerSpec, NetworkSpec, VolumeSpec, UploadSpec, PlanOptions } from "./translate";
