#!/usr/bin/env python3
"""Independent scorer: reads a labeled corpus and `triage classify --corpus FILE --json`
output and computes the eval keys without any of triage's Go code.

usage: scripts/score.py CORPUS VERDICTS [--split-language] [--json]
"""
import json, sys

CATS = ["authenticator-incomplete", "passkey-setup", "passkey-invalid",
        "new-device", "authenticator-sign-in", "password-forgotten"]

def score(pairs):
    n = len(pairs)
    tp = {c: 0 for c in CATS}; fp = dict(tp); fn = dict(tp)
    act_ok = plat_n = plat_ok = human_n = human_replied = 0
    auto = auto_right = not_human = auto_not_human = human_auto = sug = sug_right = 0
    bins = [[0, 0.0, 0] for _ in range(10)]
    lang_n = lang_ok = 0
    for want, got in pairs:
        e = want["expect"]
        wc, gc = set(e["categories"]), set(got["categories"])
        for c in CATS:
            if c in wc and c in gc: tp[c] += 1
            elif c in gc: fp[c] += 1
            elif c in wc: fn[c] += 1
        if e["categories"]:
            plat_n += 1; plat_ok += e["platform"] == got["platform"]
        act_ok += e["action"] == got["action"]
        right = wc == gc and e["action"] == got["action"]
        is_auto = got["mode"] == "auto"
        if is_auto:
            auto += 1; auto_right += right
        if e["action"] == "human":
            human_n += 1
            human_replied += got["action"] in ("reply", "escalate-mfa", "escalate-password")
            human_auto += is_auto
        else:
            not_human += 1; auto_not_human += is_auto
            if got["mode"] == "suggest":
                sug += 1; sug_right += right
        b = min(int(got["confidence"] * 10), 9)
        bins[b][0] += 1; bins[b][1] += got["confidence"]; bins[b][2] += right
        if e.get("language"):
            lang_n += 1; lang_ok += e["language"] == got.get("language")
    def f1(c):
        p = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else 0.0
        r = tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0
    T, F, N = sum(tp.values()), sum(fp.values()), sum(fn.values())
    P = T / (T + F) if T + F else 0.0; R = T / (T + N) if T + N else 0.0
    d = lambda a, b: a / b if b else 0.0
    return {
        "tickets": n,
        "macro_f1": sum(f1(c) for c in CATS) / len(CATS),
        "micro_f1": 2 * P * R / (P + R) if P + R else 0.0,
        "action_accuracy": d(act_ok, n),
        "platform_accuracy": d(plat_ok, plat_n),
        "false_reply_rate": d(human_replied, human_n),
        "coverage": d(auto_not_human, not_human),
        "autonomous_precision": d(auto_right, auto),
        "false_autonomous_rate": d(human_auto, human_n),
        "suggestion_accuracy": d(sug_right, sug),
        "ece": sum(k / n * abs(s / k - r / k) for k, s, r in bins if k),
        "language_accuracy": d(lang_ok, lang_n),
    }

def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    corpus = [json.loads(l) for l in open(args[0]) if l.strip()]
    verdicts = [json.loads(l) for l in open(args[1]) if l.strip()]
    assert len(corpus) == len(verdicts), "corpus and verdicts differ in length"
    for w, g in zip(corpus, verdicts):
        assert w["id"] == g["id"], (w["id"], g["id"])
    groups = {"all": list(zip(corpus, verdicts))}
    if "--split-language" in sys.argv:
        groups["en"] = [p for p in groups["all"] if p[0]["expect"].get("language", "en") == "en"]
        groups["other"] = [p for p in groups["all"] if p[0]["expect"].get("language", "en") != "en"]
    out = {k: score(v) for k, v in groups.items() if v}
    if "--json" in sys.argv:
        print(json.dumps(out, indent=2, sort_keys=True))
        return
    keys = list(out["all"].keys())
    print("%-22s" % "" + "".join("%10s" % g for g in out))
    for k in keys:
        print("%-22s" % k + "".join("%10.3f" % out[g][k] if isinstance(out[g][k], float) else "%10d" % out[g][k] for g in out))

main()
