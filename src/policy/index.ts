export { type CompiledRegex, compileRegex, expandTemplate, RegexSyntaxError } from './regex.js';
export { compareGoFloats, parseGoFloat } from './go-float.js';
export {
  type FieldError,
  FLUX_IMAGE_API_VERSIONS,
  parseFluxPolicy,
  parseNativePolicy,
  type PolicyParseResult,
} from './parse.js';
export {
  type CompiledPolicy,
  compilePolicy,
  DEFAULT_EXCLUSION_LIST,
  type DetailedSelection,
  selectLatest,
} from './select-latest.js';
export { parseSemverRange, parseTagVersion, satisfies, SemverRangeError } from './semver.js';
export * from './types.js';
