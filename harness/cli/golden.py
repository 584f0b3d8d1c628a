"""``harness golden generate | verify | checksum | import``: golden sets."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("golden", help="generate, verify or re-checksum golden sets")
    gsub = p.add_subparsers(dest="golden_command", required=True)
    g = gsub.add_parser("generate", help="regenerate a TechCorp golden set (deterministic)")
    g.add_argument("--profile", choices=["techcorp", "course"], default="techcorp",
                   help="techcorp (train/test/shift) or course (dev/grading, for graded student variants)")
    g.add_argument("--out", default=None, help="default: golden_sets/techcorp or golden_sets/course")
    g.add_argument("--seed", type=int, default=None, help="default: the profile's (the public set in the "
                   "repository); another seed draws another set, e.g. a course's private grading split (needs --out)")
    g = gsub.add_parser("verify", help="validate a golden set directory")
    g.add_argument("path", nargs="?", help="default: golden_sets/techcorp here, else the TechCorp set installed "
                   "with the harness")
    g = gsub.add_parser("checksum", help="rewrite the manifest's sha256 of each data file")
    g.add_argument("path")
    g = gsub.add_parser("import", help="build a golden set from a public sample (sroie, cuad)")
    g.add_argument("source", choices=["sroie", "cuad"])
    g.add_argument("--src", required=True, help="e.g. ../shared/realdata/sroie")
    g.add_argument("--out", required=True)
    p.set_defaults(func=golden_command)


def golden_command(args) -> int:
    from harness.paths import out_dir
    from harness.golden import default_golden, load_golden_set, write_checksums

    if getattr(args, "out", None):
        out_dir(args.out)  # generate, import: a file as --out stops before anything is written
    if args.golden_command == "generate":
        from golden_sets import generate

        out = generate.output_dir(args.profile, args.out, args.seed)
        generate.generate(out, args.seed, args.profile)
        print(f"wrote {out}")
    elif args.golden_command == "verify":
        g = load_golden_set(args.path or default_golden())
        counts = {s: len(g.items(s)) for s in g.manifest.splits}
        print(f"ok: {g.name} {g.manifest.version} sha256 {g.hash[:12]} items per split {counts}")
    elif args.golden_command == "import":
        from golden_sets.importers import IMPORTERS

        out = IMPORTERS[args.source](args.src, args.out)
        g = load_golden_set(out)
        print(f"wrote {out}: {len(g.documents)} documents, labels {len(g.manifest.labels)}")
    else:
        sums = write_checksums(args.path)
        for name, digest in sums.items():
            print(f"{name}: {digest}")
    return 0
