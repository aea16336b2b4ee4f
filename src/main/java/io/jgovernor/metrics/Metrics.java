package io.jgovernor.metrics;

import io.jgovernor.reconcile.Report;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmGarbageCollectorMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.JvmRuntimeInfoMetric;
import io.prometheus.metrics.instrumentation.jvm.JvmThreadsMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The daemon's metric registry: the per-group collector, the daemon's counters, the reconcile
 * duration histogram and a few JVM basics (memory, threads, GC, process RSS and CPU). Its own
 * registry, not the library's global default, so tests can build as many as they like.
 */
public final class Metrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram reconcileDuration;
    private final PrometheusTextFormatWriter text = PrometheusTextFormatWriter.create();
    private final OpenMetricsTextFormatWriter openMetrics = OpenMetricsTextFormatWriter.create();

    public Metrics(GroupCollector groups, DaemonCollector daemon, boolean jvm) {
        registry.register(groups);
        registry.register(daemon);
        reconcileDuration = Histogram.builder()
                .name("jgovernor_reconcile_duration_seconds")
                .help("Time a reconcile pass took, full and partial")
                .classicOnly()
                .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
                .withoutExemplars()
                .register(registry);
        if (jvm) {
            // JVM basics only: the MBeans these read need no JMX server (the native-memory and
            // buffer-pool collectors would start one, or report nothing without flags).
            JvmMemoryMetrics.builder().register(registry);
            JvmThreadsMetrics.builder().register(registry);
            JvmGarbageCollectorMetrics.builder().register(registry);
            JvmRuntimeInfoMetric.builder().register(registry);
            ProcessMetrics.builder().register(registry);
        }
    }

    /** Records one pass. A partial pass that found nothing to do is not a pass and is not observed. */
    public void passed(Report report) {
        if (report.full() || report.groups() > 0) {
            reconcileDuration.observe(report.took().toNanos() / 1e9);
        }
    }

    public void register(MultiCollector collector) {
        registry.register(collector);
    }

    public MetricSnapshots scrape() {
        return registry.scrape();
    }

    /** The writer for a scraper's Accept header: OpenMetrics when asked for, else text 0.0.4. */
    public ExpositionFormatWriter writerFor(String accept) {
        return accept != null && openMetrics.accepts(accept) ? openMetrics : text;
    }

    /** Scrapes and writes in the format {@code accept} asks for; returns the content type written. */
    public String write(OutputStream out, String accept) throws IOException {
        ExpositionFormatWriter w = writerFor(accept);
        w.write(out, scrape());
        return w.getContentType();
    }
}
