package io.jgovernor.model;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SortedMap;

/**
 * An immutable map in key order, kept as two sorted arrays, whose next version with a few keys
 * put or removed ({@link #with}) is made by copying the unchanged runs with System.arraycopy.
 *
 * <p>Why: an edit of one policy among a thousand changes one group, but every pass hands a
 * snapshot of all groups to readers on other threads (status, metrics, plan requests). A TreeMap
 * rebuilt or copied per edit costs a thousand entries and their garbage; this costs two array
 * copies of references, and lookups are a binary search. Iteration and sub-maps share the arrays.
 */
public final class SortedSnapshot<K extends Comparable<? super K>, V> extends AbstractMap<K, V>
        implements SortedMap<K, V> {
    private static final SortedSnapshot<?, ?> EMPTY = new SortedSnapshot<>(new Object[0], new Object[0], 0, 0);

    private final Object[] keys;
    private final Object[] values;
    private final int from;
    private final int to;

    private SortedSnapshot(Object[] keys, Object[] values, int from, int to) {
        this.keys = keys;
        this.values = values;
        this.from = from;
        this.to = to;
    }

    @SuppressWarnings("unchecked")
    public static <K extends Comparable<? super K>, V> SortedSnapshot<K, V> empty() {
        return (SortedSnapshot<K, V>) EMPTY;
    }

    /** A snapshot of {@code map}, which must iterate in its keys' natural order (a TreeMap does). */
    public static <K extends Comparable<? super K>, V> SortedSnapshot<K, V> of(SortedMap<K, V> map) {
        if (map instanceof SortedSnapshot<K, V> s) {
            return s;
        }
        Object[] k = new Object[map.size()];
        Object[] v = new Object[map.size()];
        int i = 0;
        for (Map.Entry<K, V> e : map.entrySet()) {
            k[i] = e.getKey();
            v[i++] = e.getValue();
        }
        return new SortedSnapshot<>(k, v, 0, k.length);
    }

    /**
     * This map with {@code changes} applied: a key mapped to a value is put, a key mapped to null
     * is removed. {@code changes} iterates in key order (a TreeMap); this map is not changed.
     */
    public SortedSnapshot<K, V> with(SortedMap<K, V> changes) {
        if (changes.isEmpty()) {
            return this;
        }
        Object[] k = new Object[size() + changes.size()];
        Object[] v = new Object[k.length];
        int n = 0;
        int at = from;
        for (Map.Entry<K, V> c : changes.entrySet()) {
            int found = search(c.getKey(), at, to);
            int next = found >= 0 ? found : -found - 1;
            System.arraycopy(keys, at, k, n, next - at);
            System.arraycopy(values, at, v, n, next - at);
            n += next - at;
            at = found >= 0 ? found + 1 : next;
            if (c.getValue() != null) {
                k[n] = c.getKey();
                v[n++] = c.getValue();
            }
        }
        System.arraycopy(keys, at, k, n, to - at);
        System.arraycopy(values, at, v, n, to - at);
        n += to - at;
        return new SortedSnapshot<>(k, v, 0, n);
    }

    @SuppressWarnings("unchecked")
    private int search(Object key, int lo, int hi) {
        return Arrays.binarySearch(keys, lo, hi, key, (Comparator<Object>) (a, b) -> ((K) a).compareTo((K) b));
    }

    /** The values in key order, as a list that shares this map's array. */
    @SuppressWarnings("unchecked")
    public java.util.List<V> valueList() {
        return java.util.Collections.unmodifiableList((java.util.List<V>) Arrays.asList(values).subList(from, to));
    }

    @Override
    public int size() {
        return to - from;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        if (key == null || size() == 0) {
            return null;
        }
        int i = search(key, from, to);
        return i >= 0 ? (V) values[i] : null;
    }

    @Override
    public boolean containsKey(Object key) {
        return key != null && size() > 0 && search(key, from, to) >= 0;
    }

    @Override
    public Comparator<? super K> comparator() {
        return null; // natural order
    }

    /** Index of the first key at or above {@code key}, within this view. */
    private int ceiling(K key) {
        int i = search(key, from, to);
        return i >= 0 ? i : -i - 1;
    }

    @Override
    public SortedSnapshot<K, V> subMap(K fromKey, K toKey) {
        if (fromKey.compareTo(toKey) > 0) {
            throw new IllegalArgumentException("fromKey > toKey");
        }
        return new SortedSnapshot<>(keys, values, ceiling(fromKey), Math.max(ceiling(fromKey), ceiling(toKey)));
    }

    @Override
    public SortedSnapshot<K, V> headMap(K toKey) {
        return new SortedSnapshot<>(keys, values, from, ceiling(toKey));
    }

    @Override
    public SortedSnapshot<K, V> tailMap(K fromKey) {
        return new SortedSnapshot<>(keys, values, ceiling(fromKey), to);
    }

    @Override
    @SuppressWarnings("unchecked")
    public K firstKey() {
        if (size() == 0) {
            throw new NoSuchElementException();
        }
        return (K) keys[from];
    }

    @Override
    @SuppressWarnings("unchecked")
    public K lastKey() {
        if (size() == 0) {
            throw new NoSuchElementException();
        }
        return (K) keys[to - 1];
    }

    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Map.Entry<K, V>> iterator() {
                return new Iterator<>() {
                    private int i = from;

                    @Override
                    public boolean hasNext() {
                        return i < to;
                    }

                    @Override
                    @SuppressWarnings("unchecked")
                    public Map.Entry<K, V> next() {
                        if (i >= to) {
                            throw new NoSuchElementException();
                        }
                        Map.Entry<K, V> e = new AbstractMap.SimpleImmutableEntry<>((K) keys[i], (V) values[i]);
                        i++;
                        return e;
                    }
                };
            }

            @Override
            public int size() {
                return to - from;
            }
        };
    }
}
