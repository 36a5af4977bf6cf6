use super::*;

/// Feeds `pieces` one after another and collects every message.
fn decode(decoder: &mut Decoder, pieces: &[&[u8]]) -> Result<Vec<Vec<u8>>, FramingError> {
    let mut out = Vec::new();
    for piece in pieces {
        decoder.feed(piece);
        while let Some(message) = decoder.next_message()? {
            out.push(message.into_bytes());
        }
    }
    Ok(out)
}

fn decode_all(framing: Framing, stream: &[u8]) -> Result<Vec<Vec<u8>>, FramingError> {
    let mut decoder = Decoder::new(framing);
    let out = decode(&mut decoder, &[stream])?;
    decoder.finish()?;
    Ok(out)
}

/// Checks that every two-way split and a byte-by-byte feed give `expected`.
fn assert_split_anywhere(framing: Framing, stream: &[u8], expected: &[&[u8]]) {
    let expected: Vec<Vec<u8>> = expected.iter().map(|m| m.to_vec()).collect();
    for at in 0..=stream.len() {
        let mut decoder = Decoder::new(framing);
        let (a, b) = stream.split_at(at);
        let got = decode(&mut decoder, &[a, b]).unwrap();
        assert_eq!(got, expected, "split at {at}");
        decoder.finish().unwrap();
    }
    let mut decoder = Decoder::new(framing);
    let pieces: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(
        decode(&mut decoder, &pieces).unwrap(),
        expected,
        "byte by byte"
    );
    decoder.finish().unwrap();
}

fn chunked(chunks: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend_from_slice(format!("\n#{}\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(b"\n##\n");
    out
}

// ---- end-of-message framing ----

#[test]
fn eom_single_message() {
    let got = decode_all(Framing::EndOfMessage, b"<hello/>]]>]]>").unwrap();
    assert_eq!(got, [b"<hello/>".to_vec()]);
}

#[test]
fn eom_split_at_every_byte_boundary_with_several_messages() {
    let stream =
        b"\n<a x=\"]]>]]\"/>]]>]]>  \r\n\t<rpc-reply>\n<ok/>\n</rpc-reply>]]>]]><b>]]]]>]]>\n";
    assert_split_anywhere(
        Framing::EndOfMessage,
        stream,
        &[
            b"<a x=\"]]>]]\"/>",
            b"<rpc-reply>\n<ok/>\n</rpc-reply>",
            b"<b>]]",
        ],
    );
}

#[test]
fn eom_several_messages_in_one_read() {
    let mut stream = Vec::new();
    for i in 0..100 {
        stream.extend_from_slice(format!("<m n=\"{i}\"/>]]>]]>").as_bytes());
    }
    let got = decode_all(Framing::EndOfMessage, &stream).unwrap();
    assert_eq!(got.len(), 100);
    assert_eq!(got[42], b"<m n=\"42\"/>");
}

#[test]
fn eom_whitespace_between_messages_is_skipped_other_garbage_is_an_error() {
    let got = decode_all(Framing::EndOfMessage, b" \n<a/>]]>]]>\r\n\n<b/>]]>]]>\n").unwrap();
    assert_eq!(got, [b"<a/>".to_vec(), b"<b/>".to_vec()]);

    let mut decoder = Decoder::new(Framing::EndOfMessage);
    decoder.feed(b"<a/>]]>]]>\n junk<b/>]]>]]>");
    assert_eq!(decoder.next_message().unwrap().unwrap().as_bytes(), b"<a/>");
    let error = decoder.next_message().unwrap_err();
    assert_eq!(
        error,
        FramingError::Garbage {
            offset: 12,
            byte: b'j'
        }
    );
    assert!(
        error.to_string().contains("'j' at stream offset 12"),
        "{error}"
    );
    // Errors are final.
    decoder.feed(b"<c/>]]>]]>");
    assert_eq!(decoder.next_message().unwrap_err(), error);
    assert_eq!(decoder.finish().unwrap_err(), error);
}

#[test]
fn eom_whitespace_between_messages_does_not_pile_up() {
    let mut decoder = Decoder::new(Framing::EndOfMessage);
    for _ in 0..1000 {
        decoder.feed(&[b' '; 1024]);
        assert!(decoder.next_message().unwrap().is_none());
        assert_eq!(decoder.buffered(), 0);
    }
    decoder.feed(b"\n<a/>]]>]]>");
    assert_eq!(decoder.next_message().unwrap().unwrap().as_bytes(), b"<a/>");
    assert_eq!(decoder.stream_offset(), 1000 * 1024 + 11);
    decoder.finish().unwrap();
}

#[test]
fn eom_empty_message_is_garbage() {
    assert_eq!(
        decode_all(Framing::EndOfMessage, b"]]>]]>").unwrap_err(),
        FramingError::Garbage {
            offset: 0,
            byte: b']'
        }
    );
}

#[test]
fn eom_truncated_stream_is_reported_by_finish() {
    let mut decoder = Decoder::new(Framing::EndOfMessage);
    decoder.feed(b"<a/>]]>]]><rpc-reply><data>");
    assert!(decoder.next_message().unwrap().is_some());
    assert!(decoder.next_message().unwrap().is_none());
    assert_eq!(
        decoder.finish().unwrap_err(),
        FramingError::Truncated {
            framing: Framing::EndOfMessage,
            buffered: 17
        }
    );

    // A partial delimiter is still a truncated message.
    let mut decoder = Decoder::new(Framing::EndOfMessage);
    decoder.feed(b"<a/>]]>]]");
    assert!(decoder.next_message().unwrap().is_none());
    assert!(matches!(
        decoder.finish(),
        Err(FramingError::Truncated { buffered: 9, .. })
    ));

    // Garbage that was never looked at is reported by finish as well.
    let mut decoder = Decoder::new(Framing::EndOfMessage);
    decoder.feed(b"x");
    assert!(decoder.finish().is_err());

    // Nothing, or only whitespace, left over is a clean end.
    let mut decoder = Decoder::new(Framing::EndOfMessage);
    decoder.finish().unwrap();
    decoder.feed(b"<a/>]]>]]>\n\n");
    assert!(decoder.next_message().unwrap().is_some());
    assert!(decoder.next_message().unwrap().is_none());
    decoder.finish().unwrap();
}

#[test]
fn eom_oversize_message_is_an_error_even_before_the_delimiter() {
    // Exactly at the limit is fine.
    let mut decoder = Decoder::new(Framing::EndOfMessage).with_max_message_size(10);
    assert_eq!(decoder.max_message_size(), 10);
    let got = decode(&mut decoder, &[b"<a>12345/>", b"]]>]]>"]).unwrap();
    assert_eq!(got, [b"<a>12345/>".to_vec()]);

    // One byte more, delimiter in the same read.
    let mut decoder = Decoder::new(Framing::EndOfMessage).with_max_message_size(10);
    assert_eq!(
        decode(&mut decoder, &[b"<a>123456/>]]>]]>"]).unwrap_err(),
        FramingError::MessageTooLarge {
            limit: 10,
            size: 11
        }
    );

    // A message that never ends is cut off once it is known to be too large.
    let mut decoder = Decoder::new(Framing::EndOfMessage).with_max_message_size(1000);
    decoder.feed(b"<a>");
    let mut fed = 3;
    let error = loop {
        match decoder.next_message() {
            Ok(None) => {}
            Ok(Some(_)) => panic!("no message expected"),
            Err(error) => break error,
        }
        decoder.feed(&[b'x'; 64]);
        fed += 64;
    };
    assert!(matches!(error, FramingError::MessageTooLarge { limit: 1000, size } if size > 1000));
    assert!(
        fed <= 1000 + 64 + EOM_DELIMITER.len(),
        "stopped after {fed} bytes"
    );
}

#[test]
fn eom_search_resumes_where_it_stopped() {
    let mut decoder = Decoder::new(Framing::EndOfMessage);
    decoder.feed(b"<reply>");
    assert!(decoder.next_message().unwrap().is_none());
    for round in 1..=1000usize {
        decoder.feed(b"]]>]]");
        assert!(decoder.next_message().unwrap().is_none());
        // Only the last five bytes (a possible delimiter start) are searched again.
        let len = 7 + 5 * round;
        assert_eq!(decoder.eom, EomState::Message { searched: len - 5 });
    }
    decoder.feed(b">");
    let message = decoder.next_message().unwrap().unwrap();
    assert_eq!(message.len(), 7 + 5 * 1000 + 1 - EOM_DELIMITER.len());
}

#[test]
fn eom_large_message_fed_byte_by_byte_is_linear() {
    // Quadratic rescanning would take minutes here; the remembered position keeps it fast.
    let mut stream = b"<rpc-reply>".to_vec();
    stream.resize(256 * 1024, b'x');
    stream.extend_from_slice(b"</rpc-reply>]]>]]>");
    let mut decoder = Decoder::new(Framing::EndOfMessage);
    let mut messages = 0;
    for byte in &stream {
        decoder.feed(std::slice::from_ref(byte));
        while decoder.next_message().unwrap().is_some() {
            messages += 1;
        }
    }
    assert_eq!(messages, 1);
    assert!(decoder.buf.capacity() < 1024 * 1024);
}

#[test]
fn eom_stream_offsets_count_across_messages_and_compaction() {
    let mut decoder = Decoder::new(Framing::EndOfMessage);
    for _ in 0..1000 {
        decoder.feed(b"<a/>]]>]]>");
        assert!(decoder.next_message().unwrap().is_some());
    }
    assert_eq!(decoder.stream_offset(), 10_000);
    decoder.feed(b"  ?");
    assert_eq!(
        decoder.next_message().unwrap_err(),
        FramingError::Garbage {
            offset: 10_002,
            byte: b'?'
        }
    );
}

// ---- chunked framing ----

#[test]
fn chunked_single_and_multi_chunk_messages() {
    let mut stream = chunked(&[b"<rpc-reply/>"]);
    stream.extend(chunked(&[
        b"<rpc-reply>",
        b"<data>\n",
        b"</data>",
        b"</rpc-reply>",
    ]));
    let got = decode_all(Framing::Chunked, &stream).unwrap();
    assert_eq!(
        got,
        [
            b"<rpc-reply/>".to_vec(),
            b"<rpc-reply><data>\n</data></rpc-reply>".to_vec()
        ]
    );
}

#[test]
fn chunked_split_at_every_byte_boundary() {
    let mut stream = chunked(&[b"<a>", b"#\n##\n]]>]]>", b"</a>"]);
    stream.extend(chunked(&[b"x"]));
    stream.extend(b"\n\n");
    stream.extend(chunked(&[&[b'y'; 12]]));
    assert_split_anywhere(
        Framing::Chunked,
        &stream,
        &[b"<a>#\n##\n]]>]]></a>", b"x", b"yyyyyyyyyyyy"],
    );
}

#[test]
fn chunked_many_messages_in_one_read() {
    let mut stream = Vec::new();
    for i in 0..100 {
        stream.extend(chunked(&[format!("<m n=\"{i}\"/>").as_bytes()]));
    }
    let got = decode_all(Framing::Chunked, &stream).unwrap();
    assert_eq!(got.len(), 100);
    assert_eq!(got[99], b"<m n=\"99\"/>");
}

#[test]
fn chunk_sizes_at_the_limits() {
    // Size 1 chunks.
    let got = decode_all(Framing::Chunked, &chunked(&[b"<", b"a", b"/", b">"])).unwrap();
    assert_eq!(got, [b"<a/>".to_vec()]);

    // 4294967295 is the largest legal size: accepted, waits for data.
    let mut decoder = Decoder::new(Framing::Chunked).with_max_message_size(usize::MAX);
    decoder.feed(b"\n#4294967295\n<rpc-reply>");
    assert!(decoder.next_message().unwrap().is_none());
    assert!(matches!(
        decoder.finish(),
        Err(FramingError::Truncated {
            framing: Framing::Chunked,
            ..
        })
    ));

    // One more is not.
    let mut decoder = Decoder::new(Framing::Chunked).with_max_message_size(usize::MAX);
    decoder.feed(b"\n#4294967296\n");
    assert_eq!(
        decoder.next_message().unwrap_err(),
        FramingError::ChunkSizeTooLarge { offset: 11 }
    );
    let mut decoder = Decoder::new(Framing::Chunked);
    decoder.feed(b"\n#99999999999999999999999\n");
    assert_eq!(
        decoder.next_message().unwrap_err(),
        FramingError::ChunkSizeTooLarge { offset: 11 }
    );
}

#[test]
fn bad_chunk_headers_are_typed_errors() {
    let bad = |stream: &[u8]| decode_all(Framing::Chunked, stream).unwrap_err();
    let header = |offset: u64, found: u8| move |e: &FramingError| matches!(e, FramingError::BadChunkHeader { offset: o, found: f, .. } if *o == offset && *f == found);
    assert!(header(2, b'0')(&bad(b"\n#0\n")), "zero size");
    assert!(header(2, b'0')(&bad(b"\n#01\nx\n##\n")), "leading zero");
    assert!(header(2, b'a')(&bad(b"\n#a\n")), "not a digit");
    assert!(header(2, b' ')(&bad(b"\n# 5\n")), "space before size");
    assert!(
        header(3, b' ')(&bad(b"\n#5 \nhello\n##\n")),
        "space after size"
    );
    assert!(
        header(3, b'\r')(&bad(b"\n#5\r\nhello\n##\n")),
        "CR before LF"
    );
    assert!(
        header(0, b'#')(&bad(b"#5\nhello\n##\n")),
        "no LF before '#'"
    );
    assert!(header(1, b'5')(&bad(b"\n5\nhello\n##\n")), "no '#'");
    assert!(
        header(0, b'<')(&bad(b"<a/>")),
        "1.0 message on a 1.1 stream"
    );
    assert!(
        header(9, b'#')(&bad(b"\n#5\nhello#\n##\n")),
        "no LF after data"
    );
    assert!(
        header(10, b'x')(&bad(b"\n#5\nhello\nx")),
        "no '#' after data LF"
    );
    assert!(
        header(12, b'x')(&bad(b"\n#5\nhello\n##x")),
        "no LF after '##'"
    );
    assert!(
        header(2, b'#')(&bad(b"\n\r#5\nhello\n##\n")),
        "CR between LF and '#'"
    );
    assert_eq!(
        bad(b"\n##\n"),
        FramingError::EmptyChunkedMessage { offset: 2 }
    );

    let error = bad(b"\n#x");
    assert_eq!(
        error.to_string(),
        "bad chunk header at stream offset 2: expected a chunk size (digit 1-9) or '#', found 'x'"
    );
    assert!(bad(b"\n#5\x00").to_string().ends_with("found 0x00"));
}

#[test]
fn chunked_truncated_stream_is_reported_by_finish() {
    for cut in [
        b"\n".as_slice(),
        b"\n#",
        b"\n#12",
        b"\n#5\nhel",
        b"\n#5\nhello",
        b"\n#5\nhello\n#",
    ] {
        let mut decoder = Decoder::new(Framing::Chunked);
        decoder.feed(cut);
        assert!(decoder.next_message().unwrap().is_none());
        let result = decoder.finish();
        if cut == b"\n" {
            // A lone LF between messages is whitespace.
            result.unwrap();
        } else {
            assert!(
                matches!(
                    result,
                    Err(FramingError::Truncated {
                        framing: Framing::Chunked,
                        ..
                    })
                ),
                "{cut:?}: {result:?}"
            );
        }
    }
    let mut decoder = Decoder::new(Framing::Chunked);
    decoder.feed(b"\n#5\nhello\n#3\nab");
    assert!(decoder.next_message().unwrap().is_none());
    assert_eq!(
        decoder.finish().unwrap_err(),
        FramingError::Truncated {
            framing: Framing::Chunked,
            buffered: 7
        }
    );
}

#[test]
fn chunked_oversize_is_detected_from_the_header() {
    let mut decoder = Decoder::new(Framing::Chunked).with_max_message_size(10);
    decoder.feed(b"\n#11\n");
    assert_eq!(
        decoder.next_message().unwrap_err(),
        FramingError::MessageTooLarge {
            limit: 10,
            size: 11
        }
    );
    // Across chunks: 6 + 5 > 10.
    let mut decoder = Decoder::new(Framing::Chunked).with_max_message_size(10);
    assert_eq!(
        decode(&mut decoder, &[b"\n#6\nabcdef\n#5\n"]).unwrap_err(),
        FramingError::MessageTooLarge {
            limit: 10,
            size: 11
        }
    );
    // Exactly at the limit.
    let mut decoder = Decoder::new(Framing::Chunked).with_max_message_size(10);
    let got = decode(&mut decoder, &[&chunked(&[b"abcdef", b"ghij"])]).unwrap();
    assert_eq!(got, [b"abcdefghij".to_vec()]);
    // The default limit stops a 4 GiB chunk before any data.
    let mut decoder = Decoder::new(Framing::Chunked);
    decoder.feed(b"\n#4294967295\n");
    assert!(matches!(
        decoder.next_message(),
        Err(FramingError::MessageTooLarge {
            limit: DEFAULT_MAX_MESSAGE_SIZE,
            ..
        })
    ));
}

#[test]
fn chunked_large_message_fed_byte_by_byte() {
    let payload = vec![b'z'; 200_000];
    let stream = chunked(&[&payload[..70_000], &payload[70_000..]]);
    let mut decoder = Decoder::new(Framing::Chunked);
    let pieces: Vec<&[u8]> = stream.chunks(1).collect();
    let got = decode(&mut decoder, &pieces).unwrap();
    assert_eq!(got, [payload]);
    assert!(decoder.buf.capacity() < 1024, "consumed bytes are dropped");
}

// ---- switching framing ----

#[test]
fn switch_to_chunked_right_after_the_hello_in_the_same_read() {
    for separator in [b"".as_slice(), b"\n", b"\r\n \n"] {
        let mut stream = b"<hello/>]]>]]>".to_vec();
        stream.extend_from_slice(separator);
        stream.extend(chunked(&[b"<rpc-reply/>"]));
        for at in 0..=stream.len() {
            let mut decoder = Decoder::new(Framing::EndOfMessage);
            let (a, b) = stream.split_at(at);
            let mut got = Vec::new();
            for piece in [a, b] {
                decoder.feed(piece);
                while let Some(message) = decoder.next_message().unwrap() {
                    if got.is_empty() {
                        // The hello: switch before asking for the next message.
                        decoder.set_framing(Framing::Chunked).unwrap();
                    }
                    got.push(message.into_bytes());
                }
            }
            assert_eq!(decoder.framing(), Framing::Chunked);
            assert_eq!(
                got,
                [b"<hello/>".to_vec(), b"<rpc-reply/>".to_vec()],
                "split at {at}, separator {separator:?}"
            );
            decoder.finish().unwrap();
        }
    }
}

#[test]
fn switch_after_the_whitespace_following_the_hello_was_consumed() {
    // The caller asked for another message before switching; only a LF was there, and it
    // still counts as the LF that starts the first chunk header.
    let mut decoder = Decoder::new(Framing::EndOfMessage);
    decoder.feed(b"<hello/>]]>]]> \n");
    assert!(decoder.next_message().unwrap().is_some());
    assert!(decoder.next_message().unwrap().is_none());
    decoder.set_framing(Framing::Chunked).unwrap();
    decoder.feed(b"#5\nhello\n##\n");
    assert_eq!(
        decoder.next_message().unwrap().unwrap().as_bytes(),
        b"hello"
    );

    // Without a LF the chunk header is incomplete.
    let mut decoder = Decoder::new(Framing::EndOfMessage);
    decoder.feed(b"<hello/>]]>]]>\n ");
    assert!(decoder.next_message().unwrap().is_some());
    assert!(decoder.next_message().unwrap().is_none());
    decoder.set_framing(Framing::Chunked).unwrap();
    decoder.feed(b"#5\nhello\n##\n");
    assert!(matches!(
        decoder.next_message(),
        Err(FramingError::BadChunkHeader {
            offset: 16,
            found: b'#',
            ..
        })
    ));
}

#[test]
fn cannot_leave_chunked_framing_inside_a_message() {
    let mut decoder = Decoder::new(Framing::Chunked);
    decoder.feed(b"\n#5\nhel");
    assert!(decoder.next_message().unwrap().is_none());
    assert_eq!(
        decoder.set_framing(Framing::EndOfMessage).unwrap_err(),
        FramingError::SwitchInsideMessage
    );
    decoder.feed(b"lo\n##\n");
    assert_eq!(
        decoder.next_message().unwrap().unwrap().as_bytes(),
        b"hello"
    );
    decoder.set_framing(Framing::EndOfMessage).unwrap();
    decoder.feed(b"<a/>]]>]]>");
    assert_eq!(decoder.next_message().unwrap().unwrap().as_bytes(), b"<a/>");
}

// ---- encoder ----

#[test]
fn encoder_round_trips_both_framings() {
    let mut long = vec![b'q'; 300];
    long[0] = b'<';
    let messages: [&[u8]; 3] = [b"<a/>", b"<rpc-reply>\n#5\n##\n</rpc-reply>", &long];
    for framing in [Framing::EndOfMessage, Framing::Chunked] {
        let mut encoder =
            Encoder::new(Framing::EndOfMessage).with_chunk_size(NonZeroU32::new(7).unwrap());
        encoder.set_framing(framing);
        assert_eq!(encoder.framing(), framing);
        let mut stream = Vec::new();
        for message in messages {
            encoder.encode(message, &mut stream).unwrap();
        }
        let got = decode_all(framing, &stream).unwrap();
        assert_eq!(got, messages.map(<[u8]>::to_vec));
    }
}

#[test]
fn encoder_output_is_exact() {
    let eom = Encoder::new(Framing::EndOfMessage);
    assert_eq!(eom.encode_to_vec(b"<a/>").unwrap(), b"<a/>]]>]]>");
    let chunked = Encoder::new(Framing::Chunked).with_chunk_size(NonZeroU32::new(3).unwrap());
    assert_eq!(
        chunked.encode_to_vec(b"<ab/>").unwrap(),
        b"\n#3\n<ab\n#2\n/>\n##\n"
    );
    let default = Encoder::new(Framing::Chunked);
    let big = vec![b'x'; 70_000];
    let framed = default.encode_to_vec(&big).unwrap();
    assert!(framed.starts_with(b"\n#65536\n"));
    assert_eq!(&framed[8 + 65_536..8 + 65_536 + 7], b"\n#4464\n");
    assert!(framed.ends_with(b"x\n##\n"));
    assert_eq!(framed.len(), 70_000 + 8 + 7 + 4);
}

#[test]
fn encoder_refuses_what_cannot_be_framed() {
    let eom = Encoder::new(Framing::EndOfMessage);
    let mut out = b"kept".to_vec();
    assert_eq!(
        eom.encode(b"<a>]]>]]></a>", &mut out).unwrap_err(),
        FramingError::DelimiterInMessage
    );
    // `]]>` at the end would merge with the delimiter and end the message early.
    assert_eq!(
        eom.encode(b"<a/>]]>", &mut out).unwrap_err(),
        FramingError::DelimiterInMessage
    );
    assert_eq!(
        eom.encode(b"", &mut out).unwrap_err(),
        FramingError::EmptyMessage
    );
    assert_eq!(out, b"kept");
    // `]]` or `]]>]]` at the end are fine: the receiver still finds the right delimiter.
    for message in [b"<a/>]]".as_slice(), b"<a/>]]>]]", b"]"] {
        let framed = eom.encode_to_vec(message).unwrap();
        if message.starts_with(b"<") {
            assert_eq!(
                decode_all(Framing::EndOfMessage, &framed).unwrap(),
                [message.to_vec()]
            );
        }
    }
    let chunked = Encoder::new(Framing::Chunked);
    assert_eq!(
        chunked.encode_to_vec(b"").unwrap_err(),
        FramingError::EmptyMessage
    );
    assert!(chunked.encode_to_vec(b"]]>]]>").is_ok());
}

// ---- messages ----

#[test]
fn message_text_and_debug() {
    let message = Message::new(b"<a>\xff</a>".to_vec());
    assert_eq!(
        message.as_str().unwrap_err(),
        MessageError::NotUtf8 { valid_up_to: 3 }
    );
    assert_eq!(
        message.clone().into_string().unwrap_err(),
        MessageError::NotUtf8 { valid_up_to: 3 }
    );
    let long = Message::new(vec![b'a'; 10_000]);
    let debug = format!("{long:?}");
    assert!(debug.contains("len: 10000"));
    assert!(debug.len() < 200, "{debug}");
    assert_eq!(Message::new("<x/>").into_string().unwrap(), "<x/>");
    assert!(Message::default().is_empty());
}

#[test]
fn decoder_debug_does_not_dump_the_buffer() {
    let mut decoder = Decoder::new(Framing::EndOfMessage);
    decoder.feed(&[b'<'; 10_000]);
    let debug = format!("{decoder:?}");
    assert!(debug.contains("buffered: 10000"), "{debug}");
    assert!(debug.len() < 300);
}
