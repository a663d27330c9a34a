export { DEFAULT_EXTRA_EXTENSIONS, isMarkerFile, isTemplateFile } from './files.js';
export { findYamlMarkers, type Marker } from './find-markers.js';
export { MARKER_TOKEN, type MarkerSpec, parseMarkerComment } from './marker-grammar.js';
export { doubleQuote, formatScalar, needsQuotes } from './quote.js';
export {
  applyMarkers,
  findMarkers,
  type RewriteResult,
  readMarkers,
  rewriteMarkers,
} from './rewrite-markers.js';
export { findTemplateMarkers } from './template-markers.js';
