"""Peak resident memory of every process a benchmark run involves, read from /proc and getrusage.

VmHWM in /proc/<pid>/status is a process's peak RSS so far; it is sampled while processes are
alive (PostgreSQL backends, the django-q2 cluster and its workers). getrusage covers this
process and every child it has waited for (manage.py subprocesses, the cluster after it stops).
"""
import os
import resource
from pathlib import Path


def vm_hwm_mb(pid):
    """Peak RSS of a live process in MB, or None when it is gone or unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _parent(pid):
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name is in parentheses and may hold spaces: the ppid follows the last ')'
    return int(text.rsplit(")", 1)[1].split()[1])


def process_tree(root):
    """root and every live descendant."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = _parent(int(entry))
            if parent is not None:
                parents.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, ()))
    return found


class PeakTracker:
    """Largest peak RSS seen per process kind (label -> MB)."""

    def __init__(self):
        self.peaks = {}

    def note(self, label, megabytes):
        if megabytes is not None and megabytes > self.peaks.get(label, 0):
            self.peaks[label] = megabytes

    def sample_tree(self, label, root):
        if root:
            for pid in process_tree(root):
                self.note(label, vm_hwm_mb(pid))

    def sample_self(self):
        # ru_maxrss is in kilobytes on Linux; RUSAGE_CHILDREN reports the largest waited-for child
        self.note("bench process (self)", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        self.note("child processes (waited for)", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)

    def largest(self):
        if not self.peaks:
            return None, None
        label = max(self.peaks, key=self.peaks.get)
        return label, self.peaks[label]
