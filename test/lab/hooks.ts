/**
 * One Docker lab for the whole lab tier (a mocha root hook plugin, loaded by
 * .mocharc.lab.json): its daemon starts and its images are built once, before the first
 * lab test, and it is stopped after the last. Each test file reads it with `lab()`.
 */
import { DockerLab } from "./dockerlab";

let current: DockerLab | undefined;

/** The running lab; only valid inside a test or hook. */
export function lab(): DockerLab {
    if (!current) throw new Error("the Docker lab is not running: run the lab tier with npm run test:lab");
    return current;
}

export const mochaHooks = {
    async beforeAll(this: Mocha.Context): Promise<void> {
        this.timeout(300_000);
        current = await DockerLab.start();
    },
    async afterAll(this: Mocha.Context): Promise<void> {
        this.timeout(60_000);
        await current?.stop();
        current = undefined;
    },
};
