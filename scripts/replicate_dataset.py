"""Write a dataset folder made of N copies of another, for benchmarks of
loading and of large runs: copy i's unit and sub-unit codes get the prefix
"c<i>-", every file that names units or sub-units is repeated per copy, and
the central documents are shared. Copy i's first unit also borders copy
i+1's first unit, so that the contiguity is one graph. The values are those
of the source dataset (derived: copied), not data about any place.

    python3 -I replicate_dataset.py SOURCE_DIR COPIES OUT_DIR
"""
import csv
import os
import sys

ROLES = {
    "units": ("units.csv", ["code"]),
    "subunits": ("subunits.csv", ["code", "parent"]),
    "subunit_counts": ("subunit_counts.csv", ["unit"]),
    "contiguity": ("contiguity.csv", ["unit_a", "unit_b"]),
    "panel": ("panel.csv", ["unit"]),
    "documents": ("documents.csv", []),
}


def manifest(src):
    names = {role: f for role, (f, _) in ROLES.items()}
    path = os.path.join(src, "dataset.yaml")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if ":" in line:
                    k, v = (x.strip() for x in line.split(":", 1))
                    if k in names and v:
                        names[k] = v
    return names


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)
    names = manifest(src)
    with open(os.path.join(out, "dataset.yaml"), "w", encoding="utf-8") as f:
        for role in ROLES:
            if os.path.exists(os.path.join(src, names[role])):
                f.write(f"{role}: {names[role]}\n")
    first_unit = None
    for role, (_, cols) in ROLES.items():
        path = os.path.join(src, names[role])
        if not os.path.exists(path):
            continue
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        idx = [header.index(c) for c in cols]
        if role == "units":
            first_unit = body[0][idx[0]]
        with open(os.path.join(out, names[role]), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            if not idx:
                w.writerows(body)
                continue
            for i in range(n):
                for row in body:
                    r = list(row)
                    for j in idx:
                        r[j] = f"c{i}-{r[j]}"
                    w.writerow(r)
            if role == "contiguity":
                for i in range(n - 1):
                    r = [""] * len(header)
                    r[idx[0]], r[idx[1]] = f"c{i}-{first_unit}", f"c{i + 1}-{first_unit}"
                    if "type" in header:
                        r[header.index("type")] = "land"
                    w.writerow(r)


if __name__ == "__main__":
    main()
