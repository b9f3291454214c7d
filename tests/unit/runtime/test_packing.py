"""pipeline.runtime.packing: Kafka's partitioner (checked against the Java client itself), the envelope, the packer."""
from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.runtime.packing import MAX_PACKED_BYTES, PackError, Packer, murmur2, pack, partition_for, unpack

LIB = Path(__file__).resolve().parents[3] / "pipeline" / "ops" / "services" / "broker" / "lib"
JAVA = """
import org.apache.kafka.common.utils.Utils;
public class Murmur {
    public static void main(String[] args) {
        for (String a : args) {
            byte[] b = new byte[a.length() / 2];
            for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(a.substring(2 * i, 2 * i + 2), 16);
            System.out.println(Utils.murmur2(b) + " " + Utils.toPositive(Utils.murmur2(b)) % 6);
        }
    }
}
"""


def test_kafka_reference_vectors():
    # org.apache.kafka.common.utils.UtilsTest#testMurmur2
    assert murmur2(b"21") == -973932308
    assert murmur2(b"foobar") == -790332482
    assert murmur2(b"a-little-bit-long-string") == -985981536
    assert murmur2(b"a-little-bit-longer-string") == -1486304829
    assert murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971
    assert murmur2(b"abc") == 479470107


@pytest.mark.skipif(shutil.which("java") is None or not any(LIB.glob("kafka-clients-*.jar")),
                    reason="needs Java and the broker jars (make setup)")
def test_partition_matches_the_java_client(tmp_path):
    rng = random.Random(7)
    keys = [b"", b"C-1", "prospect:twitter:José".encode(), b"email:someone@example.com"]
    keys += [os.urandom(rng.randrange(1, 40)) for _ in range(200)]
    keys += [f"P-{rng.getrandbits(64):016x}".encode() for _ in range(100)]
    src = tmp_path / "Murmur.java"
    src.write_text(JAVA)
    args = [k.hex() if k else "" for k in keys]
    out = subprocess.run(["java", "-cp", f"{LIB}/*", str(src), *args], capture_output=True, text=True, timeout=120,
                         check=True).stdout.split("\n")
    for key, line in zip(keys, out):
        h, p = map(int, line.split())
        assert murmur2(key) == h, key
        assert partition_for(key, 6) == p, key


def test_envelope_round_trip_and_errors():
    records = [(b"C-1", b'{"a":1}'), (b"C-2", b"\x00\xff")]
    assert unpack(pack(records)) == records
    with pytest.raises(PackError, match="not a packed envelope"):
        unpack(b'{"id": "x"}')
    with pytest.raises(PackError, match="version 2"):
        import msgspec

        unpack(msgspec.msgpack.encode([2, []]))
    with pytest.raises(PackError):
        unpack(None)


def test_packer_groups_by_target_partition_and_keeps_order():
    packer = Packer(6)
    keys = [f"C-{i}".encode() for i in range(100)]
    for i, k in enumerate(keys):
        packer.add(k, str(i).encode())
    assert len(packer) == 100
    seen = []
    for partition, value in packer.messages():
        recs = unpack(value)
        assert all(partition_for(k, 6) == partition for k, _ in recs)
        vals = [int(v) for _, v in recs]
        assert vals == sorted(vals)  # a partition's records keep the batch's order
        seen += vals
    assert sorted(seen) == list(range(100))
    assert len(packer) == 0 and list(packer.messages()) == []


def test_packer_splits_a_partition_past_the_size_cap():
    packer = Packer(1)
    big = b"x" * (MAX_PACKED_BYTES // 3)
    for i in range(7):
        packer.add(b"k", big + str(i).encode())
    msgs = list(packer.messages())
    assert len(msgs) >= 3 and all(len(v) <= MAX_PACKED_BYTES + 1024 for _, v in msgs)
    assert [v[-1:] for _, m in msgs for _, v in unpack(m)] == [str(i).encode() for i in range(7)]
