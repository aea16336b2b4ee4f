"""The kernel's side of the clock: registers the same PSI trigger as the daemon on FILE and prints
the realtime ns of each POLLPRI wake. The kernel checks every trigger of a group in one pass, so
this wake and the daemon's come from the same firing; the daemon's latency is its webhook's
arrival minus this wake. Runs at SCHED_FIFO 1 (as the daemon's own thread does not) so its
timestamp is not late behind a busy CPU: the figure then errs on the daemon's side."""
import os, select, sys, time
path, text, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
except OSError:
    pass
fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
os.write(fd, text.encode())
p = select.poll()
p.register(fd, select.POLLPRI)
print("registered", flush=True)
n = 0
while n < count:
    for _, ev in p.poll(30000):
        t = time.time_ns()
        if ev & select.POLLERR:
            sys.exit("trigger gone")
        print(t, flush=True)
        n += 1
