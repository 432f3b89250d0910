"""Thread-safe in-memory object store with etcd-like resourceVersions and a
bounded event history for watches.

One global revision counter across all resources (like etcd's revision that
the apiserver exposes as resourceVersion). Watches resume from a resourceVersion;
one older than the retained history gets a 410 "too old resource version"
(staging/src/k8s.io/apiserver/pkg/storage/cacher/watch_cache.go).
"""

import collections
import copy
import secrets
import threading
import uuid

from apimachinery import already_exists, not_found, conflict, rfc3339, gone

# generateName suffix alphabet: k8s.io/apimachinery/pkg/util/rand (no vowels,
# no confusable characters), 5 characters (names/generate.go).
_GEN_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def generate_suffix(n=5):
    return "".join(secrets.choice(_GEN_ALPHABET) for _ in range(n))


class Store:
    HISTORY = 4000

    def __init__(self, clock):
        self.clock = clock
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._objects = {}          # (resource, namespace, name) -> object dict
        self._created = {}          # key -> float creation time (the double's clock)
        self._rv = 1000
        self._events = collections.deque(maxlen=self.HISTORY)  # (rv, resource, ns, type, obj)
        self._oldest_rv = self._rv

    # -- helpers -------------------------------------------------------------
    def current_rv(self):
        with self.lock:
            return self._rv

    def _bump(self):
        self._rv += 1
        return self._rv

    def _record(self, resource, ns, etype, obj):
        if len(self._events) == self._events.maxlen:
            self._oldest_rv = self._events[0][0]
        self._events.append((int(obj["metadata"]["resourceVersion"]), resource, ns, etype,
                             copy.deepcopy(obj)))
        self.changed.notify_all()

    def created_at(self, resource, ns, name):
        with self.lock:
            return self._created.get((resource, ns or "", name))

    # -- CRUD ------------------------------------------------------------------
    def create(self, gr, ns, obj):
        """gr = (group, resource). obj must have metadata.name or generateName."""
        group, resource = gr
        with self.lock:
            meta = obj.setdefault("metadata", {})
            if not meta.get("name"):
                for _ in range(20):
                    cand = meta["generateName"] + generate_suffix()
                    if (resource, ns or "", cand) not in self._objects:
                        meta["name"] = cand
                        break
            key = (resource, ns or "", meta["name"])
            if key in self._objects:
                raise already_exists(group, resource, meta["name"])
            if ns:
                meta["namespace"] = ns
            else:
                meta.pop("namespace", None)
            now = self.clock()
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = rfc3339(now)
            meta["resourceVersion"] = str(self._bump())
            meta.pop("deletionTimestamp", None)
            meta.pop("managedFields", None)
            self._objects[key] = copy.deepcopy(obj)
            self._created[key] = now
            self._record(resource, ns or "", "ADDED", obj)
            return copy.deepcopy(obj)

    def get(self, gr, ns, name):
        group, resource = gr
        with self.lock:
            obj = self._objects.get((resource, ns or "", name))
            if obj is None:
                raise not_found(group, resource, name)
            return copy.deepcopy(obj)

    def peek(self, resource, ns, name):
        """Like get but returns None instead of raising."""
        with self.lock:
            obj = self._objects.get((resource, ns or "", name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, resource, ns=None):
        """All objects of a resource (ns=None: all namespaces), sorted like etcd keys."""
        with self.lock:
            # filter, then sort and copy only the matches: a list must not cost the whole store
            keys = sorted(k for k in self._objects if k[0] == resource and (ns is None or k[1] == (ns or "")))
            return [copy.deepcopy(self._objects[k]) for k in keys], str(self._rv)

    def update(self, gr, ns, obj, check_rv=True):
        """Replace; metadata.resourceVersion (if set and check_rv) must match."""
        group, resource = gr
        with self.lock:
            name = obj["metadata"]["name"]
            key = (resource, ns or "", name)
            old = self._objects.get(key)
            if old is None:
                raise not_found(group, resource, name)
            rv = obj["metadata"].get("resourceVersion")
            if check_rv and rv and rv != old["metadata"]["resourceVersion"]:
                raise conflict(group, resource, name,
                               "the object has been modified; please apply your changes to the "
                               "latest version and try again")
            meta = obj["metadata"]
            # immutable / server-owned metadata
            for f in ("uid", "creationTimestamp", "namespace"):
                if f in old["metadata"]:
                    meta[f] = old["metadata"][f]
                else:
                    meta.pop(f, None)
            meta.pop("managedFields", None)
            new = copy.deepcopy(obj)
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            if new == old:   # no-op update does not bump the resourceVersion
                return copy.deepcopy(old)
            meta["resourceVersion"] = str(self._bump())
            self._objects[key] = copy.deepcopy(obj)
            self._record(resource, ns or "", "MODIFIED", obj)
            return copy.deepcopy(obj)

    def delete(self, gr, ns, name):
        group, resource = gr
        with self.lock:
            key = (resource, ns or "", name)
            obj = self._objects.pop(key, None)
            if obj is None:
                raise not_found(group, resource, name)
            self._created.pop(key, None)
            obj["metadata"]["resourceVersion"] = str(self._bump())
            self._record(resource, ns or "", "DELETED", obj)
            return copy.deepcopy(obj)

    # -- watch -----------------------------------------------------------------
    def events_since(self, resource, ns, since_rv):
        """Events of `resource` (ns None = all) with rv > since_rv. Raises 410 if too old."""
        with self.lock:
            if since_rv < self._oldest_rv and self._events and since_rv < self._events[0][0] - 1:
                raise gone("too old resource version: %d (%d)" % (since_rv, self._events[0][0]))
            return [(rv, t, copy.deepcopy(o)) for rv, r, n, t, o in self._events
                    if rv > since_rv and r == resource and (ns is None or n == (ns or ""))]

    def wait_for_change(self, after_rv, timeout):
        """Block until the global revision exceeds after_rv or timeout elapses."""
        with self.changed:
            if self._rv > after_rv:
                return True
            self.changed.wait(timeout)
            return self._rv > after_rv

    def snapshot(self):
        with self.lock:
            return {k: copy.deepcopy(v) for k, v in self._objects.items()}
