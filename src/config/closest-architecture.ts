/**
 * The supported architectures nearest to one that is not, so a refusal can point somewhere: by name
 * only, since a refused config is read no further. Names are compared by stem ("Qwen3MoeForCausalLM"
 * and "qwen3_moe" -> "qwen3moe") and family (the letters before the version: "qwen"):
 * - same family, then the longest shared stem: Qwen3Moe -> Qwen3, Gemma3ForConditionalGeneration ->
 *   Gemma3ForCausalLM;
 * - else a family one letter away, for names long enough that this is not chance: Mixtral -> Mistral;
 * - ties are all returned (GemmaForCausalLM -> Gemma 3 and Gemma 2); no match, none (Phi3, GPT-NeoX).
 */

export interface NamedArchitecture {
  architecture: string;
  modelType: string;
}

/** "Qwen3MoeForCausalLM" -> "qwen3moe", "gemma3_text" -> "gemma3text", "QWenLMHeadModel" -> "qwen". */
export function architectureStem(name: string): string {
  return name.replace(/For[A-Z]\w*$|(LMHead)?Model$/, '').toLowerCase().replace(/[^a-z0-9]/g, '');
}

const family = (stem: string): string => /^[a-z]*/.exec(stem)![0];

function sharedPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** True when one substitution, insertion or deletion turns `a` into `b`. */
function oneEditApart(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1 || a === b) return false;
  const p = sharedPrefix(a, b);
  const rest = (s: string, skip: number) => s.slice(p + skip);
  return rest(a, 1) === rest(b, 1) || rest(a, 1) === rest(b, 0) || rest(a, 0) === rest(b, 1);
}

/** Families this long or longer may match one letter off; shorter ones (phi, glm, llava) only exactly. */
const FUZZY_FAMILY_MIN = 6;

function closeness(names: readonly string[], candidate: NamedArchitecture): number {
  let best = 0;
  for (const stem of names.map(architectureStem).filter((s) => s)) {
    for (const own of [architectureStem(candidate.architecture), architectureStem(candidate.modelType)]) {
      const f = family(stem);
      const g = family(own);
      const score = f === g && f ? 1000 + sharedPrefix(stem, own)
        : Math.min(f.length, g.length) >= FUZZY_FAMILY_MIN && oneEditApart(f, g) ? 500 + sharedPrefix(stem, own) : 0;
      best = Math.max(best, score);
    }
  }
  return best;
}

/** The candidates closest to the names an unsupported config gives (its class and/or model_type), in their order; [] when none is close. */
export function closestArchitectures<T extends NamedArchitecture>(names: readonly (string | undefined)[], candidates: readonly T[]): T[] {
  const given = names.filter((n): n is string => typeof n === 'string');
  const scores = candidates.map((c) => closeness(given, c));
  const top = Math.max(0, ...scores);
  return top > 0 ? candidates.filter((_, i) => scores[i] === top) : [];
}
