/**
 * Everything that knows a cgroup version lives here; nothing outside asks which version it is.
 *
 * <h2>The shape</h2>
 * <ul>
 *   <li>{@link io.jgovernor.cgroup.Backend} is the version, as one object built once at startup
 *       ({@code Backend.of}: {@code v1/V1Backend} or {@code v2/V2Backend}). It owns the controller
 *       set, where each controller's directories are ({@code statSources}, {@code hierarchyOf}),
 *       the tree's shape the planner asks about (v1 cpuset inheritance: {@code copiesParentCpuset};
 *       v2 delegation, cgroup.subtree_control and {@code _released}: {@code aboveRoot},
 *       {@code handDown}, {@code releasedDir}; {@code everyGroupHasDirectory}), the OOM files
 *       ({@code oomFiles}), the daemon's v2 leaf ({@code enterLeaf}) and the parser's one mode
 *       question ({@code cgroupV2}). Planner, Reconciler, DesiredTree, metrics, events,
 *       classify, app and policy ask it.</li>
 *   <li>A {@link io.jgovernor.cgroup.Controller} is one class per controller per version
 *       ({@code v1/}, {@code v2/}) and owns everything about its files: its writes
 *       ({@code observedFiles}, {@code reconcile}, {@code fresh}, {@code apply}), its stats
 *       ({@code readStats}, into {@link io.jgovernor.cgroup.GroupSample}; a new controller adds
 *       {@link io.jgovernor.cgroup.GroupSample.Series} and needs no field there and no line in
 *       the collector) and its event files (the memory controllers implement
 *       {@link io.jgovernor.cgroup.OomFiles}). Kernel quirks live in the controller, with a
 *       comment saying why.</li>
 *   <li>{@link io.jgovernor.cgroup.Controllers} is the one table of controllers, both versions
 *       side by side.</li>
 *   <li>{@link io.jgovernor.cgroup.CpuWeight} is the one shares&lt;-&gt;weight pair (systemd's
 *       formula, both ways); {@link io.jgovernor.cgroup.CgroupText} the one parser of stat files;
 *       {@link io.jgovernor.cgroup.CgroupFiles} the one file-access class.</li>
 * </ul>
 * {@code VersionChecksStayInCgroupTest} fails, naming file:line, when code outside this package
 * calls {@code isUnified()}, uses {@code CgroupMode} or {@code layout.unified()}, or names a class
 * of {@code cgroup.v1} or {@code cgroup.v2}.
 *
 * <h2>Adding a controller: these files, at most 5</h2>
 * <ol>
 *   <li>{@code model/Resources.java}: the policy section as a record of Optional fields (absent:
 *       leave at the kernel default).</li>
 *   <li>{@code policy/PolicyParser.java}: its keys, with located errors; where one version has no
 *       equivalent, a located error on that version ({@code host.cgroupV2()}, the backend's
 *       answer), never a silent no-op.</li>
 *   <li>{@code cgroup/v1/<Name>Controller.java}: the v1 files (writes in the order the kernel
 *       takes them, {@code fresh}, {@code readStats} adding {@code GroupSample.Series}, event
 *       files if it has any).</li>
 *   <li>{@code cgroup/v2/<Name>Controller.java}: the v2 twin; the same class serves both when the
 *       files and words are the same (as pids).</li>
 *   <li>{@code cgroup/Controllers.java}: one entry in {@code v1(...)} and/or {@code v2()}, and its
 *       kernel name in {@code V1_NAMES} / {@code V2_NAMES} (which hierarchies are jgovernor's).</li>
 * </ol>
 * Tests: a unit test of the controller on captured kernel text ({@code src/test/resources}), and a
 * kernel test where a real process is held by it, built through {@code Backend.of}. README.md
 * says what the keys do.
 */
package io.jgovernor.cgroup;
