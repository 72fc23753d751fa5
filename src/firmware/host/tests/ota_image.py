"""ESP-IDF app images for the OTA tests: what `idf.py build` writes for an app, laid out as ESP-IDF's
esp_image_format.h and esp_app_format.h describe it and as wsctl's FirmwareImage checks it, made from scratch:

  esp_image_header_t (24 bytes)   magic 0xE9, segment count, SPI mode/speed/size, entry address, WP pin 0xEE,
                                  pin drive, chip id (u16), min chip revision, min/max full revision, hash_appended 1
  segment 0: load address (DROM), length, then esp_app_desc_t (256 bytes: magic 0xABCD5432, secure version,
             version[32] @16, project_name[32] @48, time[16], date[16], idf_ver[32], app_elf_sha256[32] @144)
             followed by filler up to the size asked
  segment 1: a small IRAM segment, so the image has more than one segment as real apps do
  zero padding so that the checksum byte (0xEF XOR every segment byte) ends a 16-byte block
  the SHA-256 of everything before it (hash_appended)

usage as a program: ota_image.py OUT --version V [--project P] [--chip esp32c3] [--size BYTES] [--elf HEX]
"""
import argparse, hashlib, struct

CHIP_IDS = {"esp32": 0x0000, "esp32s2": 0x0002, "esp32c3": 0x0005, "esp32s3": 0x0009, "esp32c2": 0x000C,
            "esp32c6": 0x000D, "esp32h2": 0x0010, "esp32p4": 0x0012}
APP_DESC_MAGIC = 0xABCD5432


def app_desc(version, project, elf_sha256, secure_version=0):
    desc = struct.pack("<III", APP_DESC_MAGIC, secure_version, 0) + b"\0" * 4
    desc += version.encode().ljust(32, b"\0")[:32]
    desc += project.encode().ljust(32, b"\0")[:32]
    desc += b"12:00:00".ljust(16, b"\0") + b"Jan  1 2025".ljust(16, b"\0") + b"v5.3.1".ljust(32, b"\0")
    desc += elf_sha256
    desc += b"\0" * (256 - len(desc))
    assert len(desc) == 256
    return desc


def build(version, project="esp32ws", chip="esp32c3", size=None, elf_sha256=None, seed=0):
    """An image of about size bytes (at least 400); elf_sha256 defaults to a hash of the version and seed."""
    if elf_sha256 is None:
        elf_sha256 = hashlib.sha256(f"elf:{project}:{version}:{seed}".encode()).digest()
    desc = app_desc(version, project, elf_sha256)
    total = max(size or 4096, 400)
    iram = bytes((i * 7 + seed) & 0xFF for i in range(64))
    # header 24 + 2 segment headers 16 + desc + filler + iram + padding/checksum (<= 16) + digest 32
    filler_len = max(total - (24 + 16 + 256 + len(iram) + 16 + 32), 0)
    filler = hashlib.shake_256(f"rodata:{version}:{seed}".encode()).digest(filler_len) if filler_len else b""
    seg0 = desc + filler
    header = struct.pack("<BBBBIBBBBHBHH4sB", 0xE9, 2, 2, 0x20, 0x40380000, 0xEE, 0, 0, 0, CHIP_IDS[chip], 0, 0,
                         0xFFFF, b"\0" * 4, 1)
    assert len(header) == 24
    body = header + struct.pack("<II", 0x3C000020, len(seg0)) + seg0 + struct.pack("<II", 0x40380000, len(iram)) + iram
    checksum = 0xEF
    for b in seg0 + iram:
        checksum ^= b
    pad = 15 - len(body) % 16
    body += b"\0" * pad + bytes([checksum])
    return body + hashlib.sha256(body).digest()


def info(image):
    """(chip id, version, project, elf sha256 hex) of an image built here (or by ESP-IDF)."""
    chip = struct.unpack_from("<H", image, 12)[0]
    desc = image[32:288]
    version = desc[16:48].split(b"\0")[0].decode()
    project = desc[48:80].split(b"\0")[0].decode()
    return chip, version, project, desc[144:176].hex()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--version", required=True)
    ap.add_argument("--project", default="esp32ws")
    ap.add_argument("--chip", default="esp32c3")
    ap.add_argument("--size", type=int, default=4096)
    args = ap.parse_args()
    with open(args.out, "wb") as f:
        f.write(build(args.version, args.project, args.chip, args.size))
