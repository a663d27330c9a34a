export { compareGoFloats, parseGoFloat } from './go-float.js';
export {
  type FieldError,
  FLUX_IMAGE_API_VERSIONS,
  type PolicyParseResult,
  parseFluxPolicy,
  parseNativePolicy,
} from './parse.js';
export { type CompiledRegex, compileRegex, expandTemplate, RegexSyntaxError } from './regex.js';
export {
  type CompiledPolicy,
  compilePolicy,
  DEFAULT_EXCLUSION_LIST,
  type DetailedSelection,
  selectLatest,
} from './select-latest.js';
export { parseSemverRange, parseTagVersion, SemverRangeError, satisfies } from './semver.js';
export * from './types.js';
