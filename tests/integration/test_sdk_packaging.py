# SPDX-License-Identifier: MIT
"""Integration: libplume installed and used the two normal ways.

`cmake --install <build> --prefix <tmp>` (every component) once for the class,
then: the installed tree holds exactly the library with its version symlinks,
the public header, plume.pc, the Plume CMake package, plume-agent and the
example agent.toml (no static archives); libplume.so's DT_NEEDED entries all
resolve to system libraries and nothing installed carries an RPATH; plume.pc
and the CMake files point at the install prefix and nowhere else (no build or
source paths, no plume_agent). A tiny consumer, written here, is built against
the installed tree (a) with the compiler and `pkg-config --cflags --libs plume`
and (b) as a CMake project using find_package(Plume <major.minor> REQUIRED) and
Plume::plume; both run with LD_LIBRARY_PATH=<tmp>/<libdir> and must print the
project's version from plume_version() and from the header's PLUME_VERSION_*.
find_package accepts the same major.minor only (SameMinorVersion while 0.x).

Sanitized builds: their libplume.so needs the sanitizer runtime loaded first, so
the consumers are compiled with the build's compiler and the same -fsanitize
flags (what a user of such a build would do); the run steps stay on.

The build dir is $PLUME_BINARY_DIR (set by ctest), else the directory of the
plume-agent the harness uses; compiler, cmake and install dirs are read from
its CMakeCache.txt.
"""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AGENT, SOURCE_DIR  # noqa: E402

BUILD_DIR = os.path.abspath(os.environ.get("PLUME_BINARY_DIR") or os.path.dirname(AGENT))

CONSUMER_C = r"""/* Consumer of the installed libplume, written by test_sdk_packaging.py. */
#include <plume/plume.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char header[64];
    const char *lib = plume_version();
    snprintf(header, sizeof(header), "%d.%d.%d", PLUME_VERSION_MAJOR, PLUME_VERSION_MINOR,
             PLUME_VERSION_PATCH);
    if (lib == NULL || atoi(lib) != PLUME_VERSION_MAJOR || strcmp(lib, header) != 0) {
        fprintf(stderr, "version mismatch: header %s, library %s\n", header, lib ? lib : "(null)");
        return 3;
    }
    plume_options_t *opts = plume_options_new();
    if (opts == NULL) {
        fprintf(stderr, "plume_options_new() returned NULL\n");
        return 4;
    }
    plume_options_free(opts);
    printf("plume_version=%s header=%s\n", lib, header);
    return 0;
}
"""

CONSUMER_CMAKE = """cmake_minimum_required(VERSION 3.18)
project(plume_consumer LANGUAGES C)
find_package(Plume @WANT@ REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE Plume::plume)
"""

# One configure tries each requested version in VERSIONS (a ;-list) afresh.
VERSIONS_CMAKE = """cmake_minimum_required(VERSION 3.18)
project(plume_versions LANGUAGES NONE)
foreach(want IN LISTS VERSIONS)
  unset(Plume_DIR CACHE)
  unset(Plume_FOUND)
  find_package(Plume ${want} QUIET)
  message(STATUS "plume-version-check ${want} found=${Plume_FOUND}")
endforeach()
"""

# Variables a developer's shell may have that would let the consumers find
# something other than the tree just installed.
LEAKY_ENV = ("LD_LIBRARY_PATH", "LD_PRELOAD", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR",
             "PKG_CONFIG_SYSROOT_DIR", "CMAKE_PREFIX_PATH", "Plume_DIR", "Plume_ROOT",
             "CFLAGS", "LDFLAGS", "CPATH", "C_INCLUDE_PATH", "LIBRARY_PATH", "CC", "DESTDIR")


def run(cmd, timeout, env=None, cwd=None):
    """Runs cmd (a list) in its own process group, at most `timeout` s (then
    the whole group is killed). Fails with the command and its output unless
    it exits 0; returns stdout as text."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=cwd, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        raise AssertionError("timed out after %ss: %s\n%s%s"
                             % (timeout, shlex.join(cmd), out.decode(errors="replace")[-3000:],
                                err.decode(errors="replace")[-3000:]))
    out, err = out.decode(errors="replace"), err.decode(errors="replace")
    if proc.returncode != 0:
        raise AssertionError("exit %d: %s\nstdout:\n%s\nstderr:\n%s"
                             % (proc.returncode, shlex.join(cmd), out[-3000:], err[-3000:]))
    return out


def read_cache(build_dir):
    """CMakeCache.txt entries as a dict name -> value."""
    cache = {}
    with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r"([A-Za-z0-9_.+-]+):[A-Z]+=(.*)$", line.rstrip("\n"))
            if m:
                cache[m.group(1)] = m.group(2)
    return cache


def project_version():
    """The VERSION of project(plume ...) in the top-level CMakeLists.txt."""
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\(\s*plume\s+VERSION\s+(\d+\.\d+\.\d+)", f.read())
    if not m:
        raise AssertionError("no project(plume VERSION x.y.z) in %s/CMakeLists.txt" % SOURCE_DIR)
    return m.group(1)


def files_under(root):
    """Every file and symlink under root, as sorted paths relative to it."""
    out = []
    for d, _, names in os.walk(root):
        out += [os.path.relpath(os.path.join(d, n), root) for n in names]
    return sorted(out)


class SdkPackagingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(os.path.join(BUILD_DIR, "CMakeCache.txt")):
            raise AssertionError("no CMakeCache.txt in %s (set PLUME_BINARY_DIR)" % BUILD_DIR)
        cache = read_cache(BUILD_DIR)
        cls.cmake = cache.get("CMAKE_COMMAND") or "cmake"
        cls.cc = cache.get("CMAKE_C_COMPILER") or "cc"
        # GNUInstallDirs caches DATADIR empty, meaning "DATAROOTDIR".
        datadir = cache.get("CMAKE_INSTALL_DATADIR") or cache.get("CMAKE_INSTALL_DATAROOTDIR")
        cls.dirs = {"BINDIR": cache.get("CMAKE_INSTALL_BINDIR") or "bin",
                    "LIBDIR": cache.get("CMAKE_INSTALL_LIBDIR") or "lib",
                    "INCLUDEDIR": cache.get("CMAKE_INSTALL_INCLUDEDIR") or "include",
                    "DATADIR": datadir or "share"}
        absolute = [k for k, v in cls.dirs.items() if os.path.isabs(v)]
        if absolute:
            raise unittest.SkipTest("CMAKE_INSTALL_%s is absolute in %s: an install there "
                                    "cannot be redirected to a temporary prefix"
                                    % (absolute[0], BUILD_DIR))
        cls.san_flags = []
        if cache.get("PLUME_ASAN", "OFF").upper() in ("ON", "TRUE", "1", "YES"):
            cls.san_flags = ["-fsanitize=address,undefined"]
        elif cache.get("PLUME_TSAN", "OFF").upper() in ("ON", "TRUE", "1", "YES"):
            cls.san_flags = ["-fsanitize=thread"]
        cls.version = project_version()
        cls.tmp = tempfile.mkdtemp(prefix="plume-pkg-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        try:
            cls.install_log = run([cls.cmake, "--install", BUILD_DIR, "--prefix", cls.prefix],
                                  timeout=120, env=cls.env())
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.libdir = os.path.join(cls.prefix, cls.dirs["LIBDIR"])
        cls.includedir = os.path.join(cls.prefix, cls.dirs["INCLUDEDIR"])
        cls.pcdir = os.path.join(cls.libdir, "pkgconfig")
        cls.cmakedir = os.path.join(cls.libdir, "cmake", "Plume")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @staticmethod
    def env(**extra):
        env = {k: v for k, v in os.environ.items() if k not in LEAKY_ENV}
        env.update(extra)
        return env

    def path(self, *parts):
        return os.path.join(self.prefix, *parts)

    def read(self, *parts):
        with open(self.path(*parts), encoding="utf-8") as f:
            return f.read()

    def workdir(self, name):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        return d

    # ---- the installed tree -------------------------------------------------
    def test_install_tree_is_exactly_the_public_parts(self):
        lib, inc = self.dirs["LIBDIR"], self.dirs["INCLUDEDIR"]
        major = self.version.split(".")[0]
        config_files = [f for f in os.listdir(self.cmakedir) if f.startswith("PlumeTargets-")]
        self.assertEqual(len(config_files), 1,
                         "one per-configuration export file: %s" % config_files)
        want = sorted([
            os.path.join(self.dirs["BINDIR"], "plume-agent"),
            os.path.join(inc, "plume", "plume.h"),
            os.path.join(inc, "plume", "plume_hot.h"),
            os.path.join(lib, "libplume.so"),
            os.path.join(lib, "libplume.so." + major),
            os.path.join(lib, "libplume.so." + self.version),
            os.path.join(lib, "pkgconfig", "plume.pc"),
            os.path.join(lib, "cmake", "Plume", "PlumeConfig.cmake"),
            os.path.join(lib, "cmake", "Plume", "PlumeConfigVersion.cmake"),
            os.path.join(lib, "cmake", "Plume", "PlumeTargets.cmake"),
            os.path.join(lib, "cmake", "Plume", config_files[0]),
            os.path.join(self.dirs["DATADIR"], "plume", "agent.toml"),
        ])
        got = files_under(self.prefix)
        self.assertEqual([f for f in got if f.endswith(".a")], [], "static archives installed")
        self.assertEqual(got, want, "installed files (install log:\n%s)" % self.install_log)

        # libplume.so -> libplume.so.MAJOR -> libplume.so.X.Y.Z (a real file).
        self.assertEqual(os.readlink(self.path(lib, "libplume.so")), "libplume.so." + major)
        self.assertEqual(os.readlink(self.path(lib, "libplume.so." + major)),
                         "libplume.so." + self.version)
        real = self.path(lib, "libplume.so." + self.version)
        self.assertTrue(os.path.isfile(real) and not os.path.islink(real))
        self.assertTrue(os.access(self.path(self.dirs["BINDIR"], "plume-agent"), os.X_OK))

        # Installed copies are the sources' files, unchanged.
        for installed, src in ((self.path(inc, "plume", "plume.h"),
                                os.path.join(SOURCE_DIR, "sdk", "include", "plume", "plume.h")),
                               (self.path(inc, "plume", "plume_hot.h"),
                                os.path.join(SOURCE_DIR, "sdk", "include", "plume", "plume_hot.h")),
                               (self.path(self.dirs["DATADIR"], "plume", "agent.toml"),
                                os.path.join(SOURCE_DIR, "agent.toml"))):
            with open(installed, "rb") as a, open(src, "rb") as b:
                self.assertEqual(a.read(), b.read(), "%s differs from %s" % (installed, src))

    def test_library_needs_only_system_libraries(self):
        lib = self.path(self.dirs["LIBDIR"], "libplume.so." + self.version)
        dyn = run(["readelf", "-d", lib], timeout=30)
        self.assertRegex(dyn, r"\(SONAME\)\s+Library soname: \[libplume\.so\.%s\]"
                         % re.escape(self.version.split(".")[0]))
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
        self.assertIn("libc.so.6", needed)
        self.assertFalse([n for n in needed if "plume" in n], needed)
        for f in (lib, self.path(self.dirs["BINDIR"], "plume-agent")):
            self.assertNotRegex(run(["readelf", "-d", f], timeout=30), r"\((RPATH|RUNPATH)\)",
                                "%s keeps a run path after install" % f)

        ldd = run(["ldd", lib], timeout=30, env=self.env())
        self.assertNotIn("not found", ldd)
        resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
        for name in needed:
            where = resolved.get(name)
            if where is None and name.startswith("ld-linux"):
                continue  # the dynamic loader is listed by its absolute path
            self.assertIsNotNone(where, "%s not resolved by ldd:\n%s" % (name, ldd))
            for private in (self.tmp, BUILD_DIR, SOURCE_DIR):
                self.assertFalse(where.startswith(private + os.sep),
                                 "%s resolves to %s, not a system library" % (name, where))

    def test_installed_agent_runs(self):
        out = run([self.path(self.dirs["BINDIR"], "plume-agent"), "--version"], timeout=30,
                  env=self.env())
        self.assertEqual(out.strip(), "plume-agent " + self.version)

    # ---- pkg-config -----------------------------------------------------------
    def pkg_config(self, *args):
        env = self.env(PKG_CONFIG_PATH=self.pcdir, PKG_CONFIG_LIBDIR=self.pcdir)
        return run(["pkg-config"] + list(args) + ["plume"], timeout=30, env=env)

    def test_pc_file(self):
        text = self.read(self.dirs["LIBDIR"], "pkgconfig", "plume.pc")
        lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
        self.assertEqual(lines[:4], ["prefix=" + self.prefix,
                                     "exec_prefix=${prefix}",
                                     "libdir=${exec_prefix}/" + self.dirs["LIBDIR"],
                                     "includedir=${prefix}/" + self.dirs["INCLUDEDIR"]])
        self.assertIn("Version: " + self.version, lines)
        self.assertIn("Cflags: -I${includedir}", lines)
        self.assertIn("Libs: -L${libdir} -lplume", lines)
        for key in ("Requires", "Requires.private", "Libs.private"):
            self.assertFalse([ln for ln in lines if ln.startswith(key + ":")], key)
        for private in (BUILD_DIR, SOURCE_DIR):
            self.assertNotIn(private, text)
        self.assertNotRegex("\n".join(lines), r"@\w+@", "an unsubstituted @VAR@")

        self.assertEqual(self.pkg_config("--modversion").strip(), self.version)
        self.assertEqual(shlex.split(self.pkg_config("--cflags")), ["-I" + self.includedir])
        self.assertEqual(shlex.split(self.pkg_config("--libs")), ["-L" + self.libdir, "-lplume"])
        self.assertEqual(shlex.split(self.pkg_config("--static", "--libs")),
                         ["-L" + self.libdir, "-lplume"],
                         "no private deps for a shared-only install")
        # Relocatable: every path follows prefix.
        moved = shlex.split(self.pkg_config("--define-variable=prefix=/opt/moved",
                                            "--cflags", "--libs"))
        self.assertEqual(moved, ["-I/opt/moved/" + self.dirs["INCLUDEDIR"],
                                 "-L/opt/moved/" + self.dirs["LIBDIR"], "-lplume"])

    def check_consumer(self, exe):
        """Runs a consumer binary against the installed library; checks it
        loads that library and prints the project's version."""
        env = self.env(LD_LIBRARY_PATH=self.libdir)
        ldd = run(["ldd", exe], timeout=30, env=env)
        self.assertRegex(ldd, r"libplume\.so\.\d+ => %s/" % re.escape(self.libdir), ldd)
        out = run([exe], timeout=60, env=env)
        self.assertEqual(out.strip(), "plume_version=%s header=%s" % (self.version, self.version))

    def test_consumer_built_with_pkg_config(self):
        d = self.workdir("consumer-pc")
        src = os.path.join(d, "consumer.c")
        with open(src, "w", encoding="utf-8") as f:
            f.write(CONSUMER_C)
        flags = shlex.split(self.pkg_config("--cflags", "--libs"))
        exe = os.path.join(d, "consumer")
        # Strict C11 and -Werror: the installed header must be clean for users.
        run([self.cc] + self.san_flags + ["-std=c11", "-Wall", "-Wextra", "-Werror", "-o", exe, src]
            + flags, timeout=120, env=self.env(), cwd=d)
        self.check_consumer(exe)

    # ---- CMake package --------------------------------------------------------
    def test_cmake_export_files(self):
        targets = ""
        for name in sorted(os.listdir(self.cmakedir)):
            if name.startswith("PlumeTargets"):
                targets += self.read(self.cmakedir, name)
        self.assertIn("add_library(Plume::plume SHARED IMPORTED)", targets)
        self.assertRegex(targets, r'INTERFACE_INCLUDE_DIRECTORIES "\$\{_IMPORT_PREFIX\}/%s"'
                         % re.escape(self.dirs["INCLUDEDIR"]))
        self.assertNotIn("plume_agent", targets,
                         "the private pipeline library leaked into the export")
        self.assertNotIn("INTERFACE_LINK_LIBRARIES", targets)
        config = self.read(self.cmakedir, "PlumeConfig.cmake")
        for text in (targets, config, self.read(self.cmakedir, "PlumeConfigVersion.cmake")):
            for private in (BUILD_DIR, SOURCE_DIR, self.prefix):
                self.assertNotIn(private, text, "absolute path in the CMake package")

    def cmake_configure(self, src_dir, *defs):
        bin_dir = os.path.join(src_dir, "build")
        cmd = [self.cmake, "-S", src_dir, "-B", bin_dir, "-DCMAKE_PREFIX_PATH=" + self.prefix,
               "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF",
               "-DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF"] + list(defs)
        return bin_dir, run(cmd, timeout=120, env=self.env(), cwd=src_dir)

    def test_consumer_built_with_find_package(self):
        d = self.workdir("consumer-cmake")
        want = ".".join(self.version.split(".")[:2])
        with open(os.path.join(d, "consumer.c"), "w", encoding="utf-8") as f:
            f.write(CONSUMER_C)
        with open(os.path.join(d, "CMakeLists.txt"), "w", encoding="utf-8") as f:
            f.write(CONSUMER_CMAKE.replace("@WANT@", want))
        cflags = self.san_flags + ["-std=c11", "-Wall", "-Wextra", "-Werror"]
        bin_dir, _ = self.cmake_configure(d, "-DCMAKE_C_COMPILER=" + self.cc,
                                          "-DCMAKE_C_FLAGS=" + " ".join(cflags))
        self.assertEqual(read_cache(bin_dir).get("Plume_DIR"), self.cmakedir,
                         "find_package(Plume) found another copy")
        run([self.cmake, "--build", bin_dir], timeout=180, env=self.env())
        self.check_consumer(os.path.join(bin_dir, "consumer"))

    def test_find_package_version_compatibility(self):
        """SameMinorVersion: only the installed major.minor (not above the
        installed patch) satisfies a request."""
        major, minor, patch = (int(x) for x in self.version.split("."))
        expect = {"%d.%d" % (major, minor): "1",
                  "%d.%d.%d" % (major, minor, patch): "1",
                  "%d.%d.%d" % (major, minor, patch + 1): "0",
                  "%d.%d" % (major, minor + 1): "0",
                  "%d.0" % (major + 1): "0"}
        if minor > 0:
            expect["%d.%d" % (major, minor - 1)] = "0"  # SameMajorVersion would accept it
        d = self.workdir("versions")
        with open(os.path.join(d, "CMakeLists.txt"), "w", encoding="utf-8") as f:
            f.write(VERSIONS_CMAKE)
        _, out = self.cmake_configure(d, "-DVERSIONS=" + ";".join(expect))
        got = {}
        for want, found in re.findall(r"plume-version-check (\S+) found=(\S*)", out):
            got[want] = "1" if found.upper() in ("1", "ON", "TRUE", "YES") else "0"
        self.assertEqual(got, expect, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
