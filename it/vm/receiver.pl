#!/usr/bin/perl
# it/vm/receiver.pl PORT FILE - a webhook receiver for the VM tests (perl-base is in the image,
# python and nc are not): on 127.0.0.1:PORT, answers every HTTP POST with 204 and appends one line
# to FILE: "PATH<TAB>BODY" (the body on one line).
use strict;
use warnings;
use IO::Socket::INET;
my ($port, $file) = @ARGV;
my $server = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 16, ReuseAddr => 1)
    or die "listen on 127.0.0.1:$port: $!\n";
$| = 1;
print "listening on 127.0.0.1:$port\n";
while (my $c = $server->accept) {
    my ($request, $length) = ('', 0);
    my $line = <$c>;
    next unless defined $line;
    my ($method, $path) = split / /, $line;
    while (defined($line = <$c>) && $line !~ /^\r?\n$/) {
        $length = $1 if $line =~ /^content-length:\s*(\d+)/i;
    }
    my $body = '';
    read($c, $body, $length) if $length > 0;
    $body =~ s/\n/ /g;
    open(my $out, '>>', $file) or die "$file: $!\n";
    print $out "$path\t$body\n";
    close $out;
    print $c "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
    close $c;
}
