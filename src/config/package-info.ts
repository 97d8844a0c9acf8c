import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Name, version and licence from package.json (beside src/ and dist/ alike), so what the
 * OpenAPI document and CEF headers say does not depend on how the process was started.
 */
export const PACKAGE_INFO = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'),
) as { name: string; version: string; license: string };
