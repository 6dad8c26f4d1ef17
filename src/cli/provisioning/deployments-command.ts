import { DeploymentRegistry, type Deployment } from '../../core/deployments.js';
import { deploymentsFile } from '../../core/paths.js';
import type { Writable } from '../progress/pull-reporter.js';

export interface DeploymentsContext {
  setExitCode: (code: number) => void;
  env?: NodeJS.ProcessEnv;
  stdout?: Writable;
}

export async function listDeployments(flags: { json?: boolean }, context: DeploymentsContext): Promise<void> {
  const env = context.env ?? process.env;
  const stdout = context.stdout ?? process.stdout;
  const registry = new DeploymentRegistry(deploymentsFile(env));
  const deployments = await registry.list();
  if (flags.json) {
    stdout.write(`${JSON.stringify({ file: registry.path, deployments })}\n`);
  } else if (deployments.length === 0) {
    stdout.write('no deployments yet; set up gemma-local with `atomr-infer provision`\n');
  } else {
    stdout.write(table(deployments));
  }
  context.setExitCode(0);
}

export async function removeDeployment(
  name: string,
  flags: { json?: boolean },
  context: DeploymentsContext,
): Promise<void> {
  const env = context.env ?? process.env;
  const stdout = context.stdout ?? process.stdout;
  const registry = new DeploymentRegistry(deploymentsFile(env));
  const removed = await registry.remove(name.trim());
  stdout.write(
    flags.json
      ? `${JSON.stringify({ removed })}\n`
      : `removed deployment "${removed.name}" (the cached weights stay; \`atomr-infer provision\` recreates it)\n`,
  );
  context.setExitCode(0);
}

/** What a deployment loads, in one short phrase. */
export function describeWeights(deployment: Pick<Deployment, 'weights'>): string {
  const weights = deployment.weights;
  switch (weights.kind) {
    case 'huggingface': {
      const at = weights.revision ? `@${weights.revision.slice(0, 8)}` : '';
      return `${weights.repo}${weights.file ? `/${weights.file}` : ''}${at}`;
    }
    case 'local-path':
      return weights.path;
    case 'runtime-managed':
      return weights.id;
  }
}

function table(deployments: Deployment[]): string {
  const rows = [
    ['NAME', 'RUNTIME', 'MODEL', 'WEIGHTS', 'UPDATED'],
    ...deployments.map((d) => [d.name, d.runtime, d.model, describeWeights(d), d.updatedAt.slice(0, 19)]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  '),
    )
    .join('\n')
    .concat('\n');
}
