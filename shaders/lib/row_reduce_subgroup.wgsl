enable subgroups;

// Workgroup sum for row kernels with subgroup operations (the `subgroups` feature): subgroupAdd
// within each subgroup, then the first lane of each leaves its subgroup's sum at its own index
// (every other slot 0) and invocation 0 adds the WG slots in index order. Two barriers instead of
// log2(WG) + 1. WGSL does not promise how local_invocation_index maps onto subgroups, so nothing
// here assumes contiguous lanes; adding the slots in index order keeps the result the same from
// run to run. Every invocation must call it (it has barriers).

var<workgroup> red: array<f32, WG>;
var<workgroup> total: f32;

fn reduce_sum(lid: u32, v: f32) -> f32 {
  let s = subgroupAdd(v);
  red[lid] = select(0.0, s, subgroupExclusiveAdd(1u) == 0u);
  workgroupBarrier();
  if (lid == 0u) {
    var t = 0.0;
    for (var i = 0u; i < WG; i++) { t += red[i]; }
    total = t;
  }
  workgroupBarrier();
  let r = total;
  workgroupBarrier();
  return r;
}
