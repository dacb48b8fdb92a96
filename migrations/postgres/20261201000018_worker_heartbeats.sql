-- Each server process records that it is alive every second; a job leased by a process whose
-- heartbeat stopped (killed, crashed) is taken over at once instead of when its lease runs out.
CREATE TABLE workers (
    id           TEXT PRIMARY KEY,
    heartbeat_at BIGINT NOT NULL
);
