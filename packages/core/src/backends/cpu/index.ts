import { engine } from '../../engine';
import { CpuBackend } from './backend';
import { registerCpuKernels } from './kernels';

export { CpuBackend, CpuData } from './backend';

engine.registerBackend('cpu', () => new CpuBackend(), 0);
registerCpuKernels();
