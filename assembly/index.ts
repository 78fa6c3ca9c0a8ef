// Kernel exports are added here by the kernels work (see assembly/*.ts).
export function version(): i32 {
  return 1;
}
