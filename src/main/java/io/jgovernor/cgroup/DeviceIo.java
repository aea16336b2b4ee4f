package io.jgovernor.cgroup;

/** Bytes read and written by a group on one block device ("MAJ:MIN"), from blkio.throttle.io_service_bytes. */
public record DeviceIo(String device, long readBytes, long writeBytes) {
}
