/**
 * Benchmark of the offline plan: runs `tools/plan.ts --stack <s> --json` as a whole process
 * several times per stack (after a warm-up) and prints min / median / max wall time against
 * the goal of 2 s per stack on 2 cores. A benchmark, not a test: it measures and reports.
 *
 *   npm run bench:plan [-- --runs 5]
 */
import { spawnSync } from "child_process";
import * as path from "path";

const GOAL_SECONDS = 2;
const root = path.resolve(__dirname, "..");
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

function once(stack: string): number {
    const t0 = process.hrtime.bigint();
    const res = spawnSync(process.execPath, ["--import", "tsx", "tools/plan.ts", "--stack", stack, "--json"], {
        cwd: root,
        encoding: "utf8",
    });
    if (res.status !== 0) throw new Error(`plan for ${stack} exited ${res.status}: ${res.stderr}`);
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

const fmt = (n: number) => `${n.toFixed(2)} s`;
console.log(`offline plan, ${runs} runs per stack after one warm-up (goal: median under ${GOAL_SECONDS} s)`);
let worst = 0;
for (const stack of ["dev", "staging", "prod"]) {
    once(stack);
    const times = Array.from({ length: runs }, () => once(stack)).sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    worst = Math.max(worst, median);
    console.log(
        `  ${stack.padEnd(8)} min ${fmt(times[0])}  median ${fmt(median)}  max ${fmt(times[times.length - 1])}`,
    );
}
console.log(
    worst < GOAL_SECONDS ? `within goal (worst median ${fmt(worst)})` : `OVER GOAL: worst median ${fmt(worst)}`,
);
