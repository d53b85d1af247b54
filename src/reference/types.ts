/**
 * Shared array types of the CPU reference.
 *
 * Every op is written once and runs in float32 (normal use, the precision of the GPU kernels) or in
 * float64 (the finite-difference gradient checks). Arithmetic happens in JS numbers (float64) and is
 * rounded when stored, so a Float32Array run is at least as accurate as a float32 GPU kernel.
 *
 * Conventions of every op in `ops/`:
 * - flat row-major arrays, explicit sizes, outputs first;
 * - forward functions overwrite their outputs (LoRA's forward adds onto the base output, by design);
 * - backward functions ACCUMULATE (`+=`) into every gradient output, as torch's `.grad` does, so a
 *   tensor that feeds several consumers (x into q, k and v) simply receives all of them. Callers
 *   pass zeroed arrays when they want a plain gradient.
 */
export type FloatArray = Float32Array | Float64Array;

/** A constructor for one of the float array types (`Float32Array` or `Float64Array`). */
export type FloatCtor = new (length: number) => FloatArray;

/** The constructor of an existing float array, so outputs take the precision of the inputs. */
export function floatCtorOf(a: FloatArray): FloatCtor {
  return a.constructor as FloatCtor;
}

/** A zeroed array of `n` elements with the same float type as `like`. */
export function zerosLike(like: FloatArray, n: number = like.length): FloatArray {
  return new (floatCtorOf(like))(n);
}

/** Throws when an array is shorter than an op's sizes say; catches shape mix-ups early. */
export function checkLen(name: string, a: ArrayLike<number>, n: number): void {
  if (a.length < n) throw new RangeError(`${name}: expected at least ${n} elements, got ${a.length}`);
}
