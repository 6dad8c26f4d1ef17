/**
 * Types for the systeminformation modules the probe imports one by one (the package's index loads every
 * module, ~50 ms; these three cost a few ms each). Shapes follow systeminformation's own index.d.ts.
 */
declare module 'systeminformation/lib/memory.js' {
  import type { Systeminformation } from 'systeminformation';
  const memory: { mem(): Promise<Systeminformation.MemData> };
  export default memory;
}

declare module 'systeminformation/lib/cpu.js' {
  import type { Systeminformation } from 'systeminformation';
  const cpu: { cpu(): Promise<Systeminformation.CpuData> };
  export default cpu;
}

declare module 'systeminformation/lib/graphics.js' {
  import type { Systeminformation } from 'systeminformation';
  const graphics: { graphics(): Promise<Systeminformation.GraphicsData> };
  export default graphics;
}
