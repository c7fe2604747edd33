import { recordStack } from "../tools/lib/mockrun";
(async () => {
    const t0 = Date.now();
    await recordStack("prod");
    const t1 = Date.now();
    for (let i = 0; i < 5; i++) await recordStack("prod");
    console.log("first", t1 - t0, "next avg", (Date.now() - t1) / 5);
})();
