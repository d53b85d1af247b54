import { useEffect, useRef, useState } from 'react';

/**
 * `value`, but changing at most once per `minMs`, and never sooner than twice the time the last
 * change took to render (measured to the next frame): on a slow machine the charts redraw less
 * often instead of making the page stutter. The latest value always arrives.
 */
export function useThrottled<T>(value: T, minMs: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef({ at: 0, cost: 0 });
  useEffect(() => {
    if (Object.is(value, shown)) return;
    const apply = () => {
      const t0 = performance.now();
      last.current.at = t0;
      setShown(value);
      requestAnimationFrame(() => { last.current.cost = performance.now() - t0; });
    };
    const wait = last.current.at + Math.max(minMs, 2 * last.current.cost) - performance.now();
    if (wait <= 0) { apply(); return; }
    const t = setTimeout(apply, wait);
    return () => clearTimeout(t);
  }, [value, shown, minMs]);
  return shown;
}
