import Testing
@testable import SpikeVault

/// The library's strict JSON reader (`JSONLeaves`) against SQLite's `json_tree`, which it
/// replaces on the export path: the same string values redacted the same way, documents it
/// does not read exactly left to SQLite.
@Suite struct JSONRedactionTests {
    let db: Database
    let redactor = Redactor(home: "/home/alice", user: "alice")

    init() throws { db = try Database(path: ":memory:", busyTimeoutMs: 0) }

    static let strict = [
        #"{"capture":{"backend":"procfs","cmdline":["/home/alice/app","--token","s3cr3t"]},"i":1}"#,
        "{\n  \"a\" : [ \"--password\" , \"pw\" ] ,\n\t\"b\":\"/home/alice/x\"\r\n}",
        #"{"token":"abc","api_key":"","PASSWORD":"x","sort-key":"--password=y","n":null}"#,
        #"{"argv":["--api-key=k","x",{"inner":["--secret","zzz"]},"--password","pw",1,"--token",true,"t"]}"#,
        #"{"esc":"\u00e9\ud83d\ude00\t\"\\\/\b\f\n\r \u2028 /home/alice","k\"ey":"--password=\u0070w"}"#,
        #"{"deep":[[[["--token","t"]]],[["-p","x"]]],"e":-1.5e-7,"z":0,"big":123456789012345678901234567890}"#,
        #"{"dup":"a","dup":"--password=x","dup":["--token","y"]}"#,
        #"{"":"","empty":[],"obj":{},"nested":{"password":{"value":"v"}}}"#,
        #"["--token","top","level"]"#,
        #""/home/alice/a bare string""#,
        #"{"ascii":"user alice at /home/alice/.ssh/id_rsa","url":"postgres://bob:Pa55@db/x"}"#,
    ]

    @Test func strictDocumentsAreReadLikeJSONTree() throws {
        for doc in Self.strict {
            for r in [redactor, Redactor.disabled] {
                let native = try #require(JSONRedaction.viaJSONLeaves(doc, r, nil, compact: false), "not read: \(doc)")
                let tree = r.enabled ? try JSONRedaction.viaJSONTree(db, doc, r, nil) : doc
                #expect(try JSONRedaction.minified(db, native) == JSONRedaction.minified(db, tree), "\(doc)")
                let compact = try #require(JSONRedaction.viaJSONLeaves(doc, r, RedactionMemo(), compact: true))
                #expect(try compact == JSONRedaction.minified(db, compact), "compact form of \(doc)")
                #expect(try JSONRedaction.minified(db, compact) == JSONRedaction.minified(db, native))
                #expect(!compact.contains("\n"))
            }
        }
    }

    @Test func anUnchangedStrictDocumentIsReturnedAsItIs() {
        let doc = #"{"a":"plain","b":[1,2]}"#
        #expect(JSONRedaction.viaJSONLeaves(doc, redactor, nil, compact: true) == doc)
        #expect(JSONRedaction.viaJSONLeaves(doc, redactor, nil, compact: false) == doc)
    }

    @Test func documentsOutsideStrictJSONGoToSQLite() throws {
        let deep = String(repeating: "[", count: JSONLeaves.maxDepth + 1) + #""--token","x""#
            + String(repeating: "]", count: JSONLeaves.maxDepth + 1)
        let refused = [#"{"a":"\ud800"}"#, #"{"a":1,}"#, #"{"a" 1}"#, "[01]", "[1.]", "[-]", "[tru]", "{\"a\":\"\u{1}\"}",
                       #"{"a":1} x"#, #"{'a':1}"#, "", "   ", #"{"a":"unterminated}"#, deep, #"{"a":1"#, "[1 2]", #"{"a"}"#]
        for doc in refused {
            #expect(JSONRedaction.viaJSONLeaves(doc, redactor, nil, compact: true) == nil, "read: \(doc.prefix(40))")
        }
        // what SQLite accepts it redacts through JSON1, and the export path does not throw
        let lone = try JSONRedaction.redact(db, #"{"a":["--token","\ud800"]}"#, redactor, compact: true)
        #expect(lone.contains("<redacted>"))
        #expect(try JSONRedaction.redact(db, deep, Redactor.disabled, compact: false) == deep)
    }

    @Test func aMemoGivesTheSameAnswers() throws {
        let memo = RedactionMemo()
        for _ in 0..<3 {
            for doc in Self.strict {
                #expect(JSONRedaction.viaJSONLeaves(doc, redactor, memo, compact: true)
                        == JSONRedaction.viaJSONLeaves(doc, redactor, nil, compact: true))
            }
        }
    }
}
