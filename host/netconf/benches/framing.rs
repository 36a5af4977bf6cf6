//! Decode throughput for both framings on a ~10 MB reply delivered in 16 KiB reads, next to
//! a plain copy of the same reads (the floor any decoder that buffers must pay).
//!
//! Run: `cargo bench -p nbfacts-netconf --bench framing`

// A benchmark is test code: a failed unwrap should abort it loudly.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nbfacts_netconf::{Decoder, Encoder, Framing, RpcReply};

const READ_SIZE: usize = 16 * 1024;
const TARGET_SIZE: usize = 10 * 1024 * 1024;

/// A Junos-like `get-interface-information` reply of about 10 MB.
fn reply() -> Vec<u8> {
    let mut xml = String::from(
        "<rpc-reply xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\" \
         xmlns:junos=\"http://xml.juniper.net/junos/21.4R0/junos\" message-id=\"1\">\n\
         <interface-information xmlns=\"http://xml.juniper.net/junos/21.4R0/junos-interface\" junos:style=\"normal\">\n",
    );
    let mut i = 0u32;
    while xml.len() < TARGET_SIZE {
        xml.push_str(&format!(
            "<physical-interface>\n<name>ge-{}/{}/{}</name>\n<admin-status junos:format=\"Enabled\">up</admin-status>\n\
             <oper-status>up</oper-status>\n<description>uplink to core &amp; backup #{i}</description>\n\
             <mtu>1514</mtu>\n<speed>1000mbps</speed>\n<current-physical-address>00:0c:29:{:02x}:{:02x}:{:02x}</current-physical-address>\n\
             <interface-flapped junos:seconds=\"{i}\">2024-01-01 00:00:00 UTC</interface-flapped>\n</physical-interface>\n",
            i / 1000,
            (i / 48) % 20,
            i % 48,
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff,
        ));
        i += 1;
    }
    xml.push_str("</interface-information>\n</rpc-reply>");
    xml.into_bytes()
}

fn decode(framing: Framing, wire: &[u8]) -> usize {
    let mut decoder = Decoder::new(framing);
    let mut total = 0;
    for read in wire.chunks(READ_SIZE) {
        decoder.feed(read);
        while let Some(message) = decoder.next_message().unwrap() {
            total += message.len();
            black_box(message);
        }
    }
    decoder.finish().unwrap();
    total
}

fn framing(c: &mut Criterion) {
    let reply = reply();
    let eom = Encoder::new(Framing::EndOfMessage)
        .encode_to_vec(&reply)
        .unwrap();
    let chunked = Encoder::new(Framing::Chunked)
        .encode_to_vec(&reply)
        .unwrap();
    assert_eq!(decode(Framing::EndOfMessage, &eom), reply.len());
    assert_eq!(decode(Framing::Chunked, &chunked), reply.len());

    let mut group = c.benchmark_group("decode_10MB_in_16KiB_reads");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(eom.len() as u64));
    group.bench_function("baseline_copy", |b| {
        b.iter(|| {
            let mut buffer = Vec::new();
            for read in black_box(&eom).chunks(READ_SIZE) {
                buffer.extend_from_slice(read);
            }
            black_box(buffer)
        })
    });
    group.bench_function("end_of_message", |b| {
        b.iter(|| decode(Framing::EndOfMessage, black_box(&eom)))
    });
    group.throughput(Throughput::Bytes(chunked.len() as u64));
    group.bench_function("chunked_64KiB_chunks", |b| {
        b.iter(|| decode(Framing::Chunked, black_box(&chunked)))
    });
    group.finish();

    // For scale: what parsing the reply (payload slice + rpc-error scan) costs after framing.
    let mut group = c.benchmark_group("parse_10MB_reply");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(reply.len() as u64));
    let text = String::from_utf8(reply.clone()).unwrap();
    group.bench_function("rpc_reply_parse", |b| {
        b.iter(|| {
            RpcReply::parse(black_box(text.clone()))
                .unwrap()
                .payload()
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, framing);
criterion_main!(benches);
