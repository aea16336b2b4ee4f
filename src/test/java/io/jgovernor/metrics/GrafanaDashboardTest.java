package io.jgovernor.metrics;

import io.jgovernor.testing.Json;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** packaging/grafana/jgovernor.json imports as it is and queries only metrics the daemon exports. */
class GrafanaDashboardTest {
    private static final List<String> EXPORTED = List.of("jgovernor_group_cpu_usage_seconds_total",
            "jgovernor_group_cpu_quota_cores", "jgovernor_group_cpu_throttled_periods_total",
            "jgovernor_group_cpu_throttled_seconds_total", "jgovernor_group_memory_usage_bytes",
            "jgovernor_group_memory_limit_bytes", "jgovernor_group_oom_kills_total", "jgovernor_group_oom_events_total",
            "jgovernor_group_io_read_bytes_total", "jgovernor_group_io_write_bytes_total",
            "jgovernor_group_pids_current", "jgovernor_group_processes", "jgovernor_policies",
            "jgovernor_reconcile_errors_total", "jgovernor_drift_corrections_total", "jgovernor_scrape_errors_total",
            "jgovernor_reconcile_duration_seconds_bucket", "jgovernor_group_memory_working_set_bytes",
            "jgovernor_group_memory_events_total", "jgovernor_pressure_events_total",
            "jgovernor_group_pressure_cpu_waiting_seconds_total", "jgovernor_group_pressure_cpu_stalled_seconds_total",
            "jgovernor_group_pressure_memory_waiting_seconds_total",
            "jgovernor_group_pressure_memory_stalled_seconds_total", "jgovernor_group_pressure_io_waiting_seconds_total",
            "jgovernor_group_pressure_io_stalled_seconds_total", "jgovernor_host_pressure_cpu_waiting_seconds_total",
            "jgovernor_host_pressure_memory_waiting_seconds_total", "jgovernor_host_pressure_io_waiting_seconds_total");

    @Test
    void dashboardIsImportableAndUsesExportedMetrics() throws Exception {
        String text = Files.readString(Path.of("packaging/grafana/jgovernor.json"));
        Map<?, ?> d = (Map<?, ?>) Json.parse(text);
        Map<?, ?> input = (Map<?, ?>) ((List<?>) d.get("__inputs")).getFirst();
        assertEquals("DS_PROMETHEUS", input.get("name"));
        assertEquals("datasource", input.get("type"));
        List<?> vars = (List<?>) ((Map<?, ?>) d.get("templating")).get("list");
        assertTrue(vars.stream().anyMatch(v -> "group".equals(((Map<?, ?>) v).get("name"))));
        Matcher m = Pattern.compile("jgovernor_[a-z_]+").matcher(text);
        int seen = 0;
        while (m.find()) {
            assertTrue(EXPORTED.contains(m.group()), "the dashboard queries " + m.group() + ", which is not exported");
            seen++;
        }
        assertTrue(seen > 10);
        for (String wanted : List.of("jgovernor_group_memory_working_set_bytes",
                "jgovernor_group_pressure_memory_waiting_seconds_total", "jgovernor_group_pressure_cpu_waiting_seconds_total",
                "jgovernor_group_pressure_io_stalled_seconds_total")) {
            assertTrue(text.contains(wanted), "the dashboard has a panel of " + wanted);
        }
        for (Object p : (List<?>) d.get("panels")) {
            assertEquals("${DS_PROMETHEUS}", ((Map<?, ?>) ((Map<?, ?>) p).get("datasource")).get("uid"));
        }
    }
}
