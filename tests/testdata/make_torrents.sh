#!/bin/sh
# Regenerates tests/testdata/torrents/ and its MANIFEST.md with real tools.
#
# Documentation of how the fixtures were made; the tests read the committed files and never run
# this. Needs Debian's `mktorrent` (1.1) and `python3-libtorrent` (2.0.x) via /usr/bin/python3.
# Payloads are tiny, deterministic, and made in a temporary directory that is deleted afterwards;
# `mktorrent -d` and libtorrent leave dates out of `info`, so info hashes are reproducible.
#
# Expected hashes in MANIFEST.md come from libtorrent's `torrent_info(path).info_hashes()`, never
# from NoBrake's code; for the hand-edited file they are also checked against hashlib over the
# exact bytes the editing script wrote.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/torrents"
PY=/usr/bin/python3
ANNOUNCE=http://127.0.0.1:6969/announce
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

rm -rf "$OUT"
mkdir -p "$OUT/nested/deeper"

# --- payloads ------------------------------------------------------------------------------------
cd "$WORK"
printf 'hello, nobrake\n' > hello.txt
mkdir -p album/disc2
printf 'track one\n' > album/one.txt
head -c 40000 /dev/zero | tr '\0' 'b' > album/disc2/two.bin
printf 'only for friends\n' > secret.txt
printf 'keys out of order\n' > reordered.txt
mkdir -p v2data/sub
head -c 5000 /dev/zero | tr '\0' 'c' > v2data/a.txt
head -c 40000 /dev/zero | tr '\0' 'd' > v2data/sub/b.bin
mkdir -p hybriddata
head -c 20000 /dev/zero | tr '\0' 'e' > hybriddata/first.bin
printf 'short tail file\n' > hybriddata/second.txt

# --- v1 with mktorrent ---------------------------------------------------------------------------
mktorrent -d -l 15 -a "$ANNOUNCE" -o "$OUT/single_v1.torrent" hello.txt
# Multi-file, with a non-ASCII name to test UTF-8 decoding of info.name.
mktorrent -d -l 15 -a "$ANNOUNCE" -n 'Álbum ♫' -o "$OUT/nested/multi_v1.torrent" album
mktorrent -d -p -l 15 -a "$ANNOUNCE" -o "$OUT/nested/deeper/friends.secret.torrent" secret.txt
mktorrent -d -l 15 -a "$ANNOUNCE" -o "$WORK/reordered_canonical.torrent" reordered.txt

# --- v2-only and hybrid with libtorrent ------------------------------------------------------------
"$PY" - "$OUT" "$ANNOUNCE" <<'EOF'
import sys
import libtorrent as lt

out, announce = sys.argv[1], sys.argv[2]

def make(payload, flags, dest):
    fs = lt.file_storage()
    lt.add_files(fs, payload)
    t = lt.create_torrent(fs, 16384, flags)
    t.add_tracker(announce)
    lt.set_piece_hashes(t, ".")
    with open(dest, "wb") as f:
        f.write(lt.bencode(t.generate()))

make("v2data", lt.create_torrent.v2_only, out + "/v2_only.torrent")
# Default flags make a hybrid (v1 + v2) torrent; first.bin is padded to a piece boundary.
make("hybriddata", 0, out + "/nested/hybrid.torrent")
EOF

# --- hand-edited: info keys out of canonical order -------------------------------------------------
# Moves "name" before "length" inside info. The true info hash is of these bytes; a decoder that
# re-encodes (sorting keys) would compute the canonical file's hash instead.
"$PY" - "$WORK/reordered_canonical.torrent" "$OUT/noncanonical.torrent" <<'EOF'
import sys

def span(b, i):
    """End offset of the bencoded value starting at b[i]."""
    c = b[i:i + 1]
    if c == b"i":
        return b.index(b"e", i) + 1
    if c in (b"l", b"d"):
        i += 1
        while b[i:i + 1] != b"e":
            i = span(b, i)
        return i + 1
    colon = b.index(b":", i)
    return colon + 1 + int(b[i:colon])

src = open(sys.argv[1], "rb").read()
start = src.index(b"4:infod") + len(b"4:info")
end = span(src, start)
pairs, i = [], start + 1
while i < end - 1:
    k_end = span(src, i)
    v_end = span(src, k_end)
    pairs.append((src[i:k_end], src[k_end:v_end]))
    i = v_end
keys = [k.split(b":", 1)[1] for k, _ in pairs]
assert keys == sorted(keys), keys
a, b = keys.index(b"length"), keys.index(b"name")
pairs[a], pairs[b] = pairs[b], pairs[a]
info = b"d" + b"".join(k + v for k, v in pairs) + b"e"
open(sys.argv[2], "wb").write(src[:start] + info + src[end:])
EOF

# --- corrupt and ignored files ------------------------------------------------------------------------
head -c 60 "$OUT/single_v1.torrent" > "$OUT/corrupt.torrent"
printf 'Not a torrent: the loader must ignore this file.\n' > "$OUT/nested/README.txt"

# --- MANIFEST.md: expected values computed by libtorrent ---------------------------------------------
"$PY" - "$OUT" > "$OUT/MANIFEST.md" <<'EOF'
import hashlib, sys
import libtorrent as lt

out = sys.argv[1]
rows = [
    ("single_v1.torrent", "mktorrent -d -l 15 -a URL -o single_v1.torrent hello.txt"),
    ("nested/multi_v1.torrent", "mktorrent -d -l 15 -a URL -n 'Álbum ♫' -o multi_v1.torrent album"),
    ("nested/deeper/friends.secret.torrent", "mktorrent -d -p -l 15 -a URL -o friends.secret.torrent secret.txt"),
    ("v2_only.torrent", "libtorrent create_torrent(fs, 16384, create_torrent.v2_only) over v2data/"),
    ("nested/hybrid.torrent", "libtorrent create_torrent(fs, 16384, 0) (hybrid) over hybriddata/"),
    ("noncanonical.torrent", "mktorrent -d -l 15 -a URL reordered.txt, then a Python script swaps info keys length and name"),
]

print("# Torrent fixtures")
print()
print("Generated by `tests/testdata/make_torrents.sh` (mktorrent 1.1, python3-libtorrent "
      + lt.__version__ + "). URL is `http://127.0.0.1:6969/announce`.")
print("Expected values come from libtorrent's `torrent_info(path)`: `info_hashes()`, `name()`, and")
print("the sum of `files().file_size(i)` over files that are not padding files. `v2` is the first")
print("20 bytes of SHA-256 (what trackers see, BEP 52); `v2 full` is all 32. `-` means absent.")
print()
print("| path | name | size | v1 | v2 | v2 full |")
print("|---|---|---|---|---|---|")
for path, _ in rows:
    ti = lt.torrent_info(out + "/" + path)
    ih = ti.info_hashes()
    fs = ti.files()
    size = sum(fs.file_size(i) for i in range(fs.num_files())
               if not fs.file_flags(i) & lt.file_storage.flag_pad_file)
    v1 = str(ih.v1) if ih.has_v1() else "-"
    v2full = ih.v2.to_bytes().hex() if ih.has_v2() else "-"
    v2 = v2full[:40] if ih.has_v2() else "-"
    if path == "noncanonical.torrent":
        # Cross-check libtorrent against hashlib over the info bytes libtorrent itself found.
        assert hashlib.sha1(ti.info_section()).hexdigest() == v1
    print(f"| {path} | {ti.name()} | {size} | {v1} | {v2} | {v2full} |")
print()
print("## How each fixture was made")
print()
for path, how in rows:
    print(f"- `{path}`: {how}.")
print("- `corrupt.torrent`: `head -c 60 single_v1.torrent` (truncated; must be skipped).")
print("- `nested/README.txt`: plain text; not a `.torrent`, so the loader must ignore it.")
print("- `MANIFEST.md` (this file) is not a `.torrent` either.")
EOF
echo "fixtures written to $OUT"
