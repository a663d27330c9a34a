/** Which files carry markers: Flux's set (`*.yaml`, `*.yml`, `Kustomization`) plus configured extensions. */

export const DEFAULT_EXTRA_EXTENSIONS: readonly string[] = ['.gotmpl', '.tpl'];

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function isMarkerFile(
  path: string,
  extraExtensions: readonly string[] = DEFAULT_EXTRA_EXTENSIONS,
): boolean {
  const base = baseName(path);
  if (base === 'Kustomization' || base.endsWith('.yaml') || base.endsWith('.yml')) return true;
  return extraExtensions.some((ext) => ext !== '' && base.endsWith(ext));
}

/** Templates go to the line-level reader: by extension, or a Helm chart's `templates/` holding `{{`. */
export function isTemplateFile(path: string, text: string): boolean {
  const base = baseName(path);
  if (!base.endsWith('.yaml') && !base.endsWith('.yml') && base !== 'Kustomization') return true;
  return /(^|\/)templates\//.test(path) && text.includes('{{');
}
