/** FNV-1a over type and value, as a small integer (stays a V8 Smi, so a Set of them is cheap). */
export function keyHash(type: string, value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < type.length; i++) h = Math.imul(h ^ type.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0, 0x01000193);
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return h >> 1;
}
