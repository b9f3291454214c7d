"""Process entry point of the embedded ClickHouse server (one chdb engine per process).

`python -m pipeline.ops.services.clickhouse_server RUN_DIR TCP_PORT HTTP_PORT` writes config.xml into RUN_DIR, opens the
TCP and HTTP listeners and blocks until a line is written to RUN_DIR/stop.fifo (recipe: shared NOTES.md)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

CONFIG = ("<clickhouse><listen_host>127.0.0.1</listen_host><tcp_port>{tcp}</tcp_port><http_port>{http}</http_port>"
          "<logger><level>error</level><console>1</console></logger>"
          "<max_server_memory_usage_to_ram_ratio>0.5</max_server_memory_usage_to_ram_ratio></clickhouse>")


def main(argv: list[str]) -> int:
    run_dir, tcp, http = Path(argv[0]).resolve(), int(argv[1]), int(argv[2])
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.xml").write_text(CONFIG.format(tcp=tcp, http=http))
    fifo = run_dir / "stop.fifo"
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    os.chdir(run_dir)  # chdb reads config.xml from the working directory
    from chdb import _chdb  # imported after chdir on purpose

    # The FIFO read blocks the batch, keeping the listeners open; one line written to it ends the server.
    sql = ("SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; "
           f"SELECT count() FROM file('{fifo}', 'LineAsString') SETTINGS storage_file_read_method='read'")
    _chdb.query(sql, "TabSeparated", path=str(run_dir / "data"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
