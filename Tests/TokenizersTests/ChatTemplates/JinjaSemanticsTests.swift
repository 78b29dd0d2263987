import Foundation
import Testing

@testable import Tokenizers

/// Interpreter semantics with hand-derived expected output (Python/jinja2 rules).
@Suite("Jinja semantics")
struct JinjaSemanticsTests {
    func render(_ source: String, _ variables: [String: JinjaValue] = [:], messages: [JinjaValue] = []) throws -> String {
        try ChatTemplate(source: source, name: "t").render(messages: messages, addGenerationPrompt: false,
                                                           variables: variables).text
    }

    @Test("expressions follow Python", arguments: [
        ("{{ 7 / 2 }} {{ 6 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }}", "3.5 3.0 3 -4 2 -2 1024"),
        ("{{ 'a' + 'b' }} {{ [1] + [2] }} {{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 2 }}", "ab [1, 2] a1NoneTrue abab"),
        ("{{ 1 == 1.0 }} {{ true == 1 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'b' > 'a' }}", "True True True False True"),
        ("{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'x' not in 'abc' }}", "True True True True"),
        ("{{ 0.0 or 'x' }}|{{ '' and 1 }}|{{ [] or none }}|{{ not [] }}", "x||None|True"),
        ("{{ 'yes' if [0] else 'no' }} {{ 'yes' if {} else 'no' }} {{ 'x' if false }}|", "yes no |"),
        ("{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 1e-5 }} {{ 0.0001 }} {{ -0.0 }} {{ 2.50 }}",
         "0.30000000000000004 1e+16 1000000000000000.0 1e-05 0.0001 -0.0 2.5"),
        ("{{ [1, 'a', none, true, 1.5, {'k': (1,)}] }}", "[1, 'a', None, True, 1.5, {'k': (1,)}]"),
        ("{{ \"it's\" }} {{ [\"it's\", 'say \"hi\"', 'both \\' \"'] }}", "it's [\"it's\", 'say \"hi\"', 'both \\' \"']"),
        ("{{ 'hello'[1:3] }} {{ [1, 2, 3, 4][::2] }} {{ 'abc'[-1] }} {{ 'abc'[::-1] }} {{ [1, 2, 3][-2:] }}",
         "el [1, 3] c cba [2, 3]"),
        ("{{ 'héllo😀' | length }} {{ 'héllo😀'[5] }} {{ 'héllo😀'[:2] }}", "6 😀 hé"),
        ("{{ '\\u00e9\\x41\\n' | tojson }}", "\"éA\\n\""),
    ])
    func expressions(source: String, expected: String) throws {
        #expect(try render(source) == expected)
    }

    @Test("string and dict methods", arguments: [
        ("{{ '  x y  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}", "x y|hi|a|a"),
        ("{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }}",
         "['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b,c'] ['a,b', 'c']"),
        ("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'Hello'.upper() }} {{ 'HeLLo'.lower() }}",
         "True True HELLO hello"),
        ("{{ 'hello wORLD'.title() }} {{ 'hello wORLD'.capitalize() }} {{ 'aaa'.replace('a', 'b', 2) }}",
         "Hello World Hello world bba"),
        ("{{ 'abcabc'.find('c') }} {{ 'abcabc'.rfind('c') }} {{ 'abcabc'.count('bc') }} {{ '-'.join(['a', 'b']) }}",
         "2 5 2 a-b"),
        ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {{ d.keys() | list }} {{ d.values() | list }}",
         "z=1;a=2; ['z', 'a'] [1, 2]"),
        ("{{ d.get('a') }} {{ d.get('q') }} {{ d.get('q', 'dflt') }} {{ d.z }} {{ d['a'] }}", "2 None dflt 1 2"),
    ])
    func methods(source: String, expected: String) throws {
        #expect(try render(source, ["d": ["z": 1, "a": 2]]) == expected)
    }

    @Test("filters and tests", arguments: [
        ("{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'a'] | sort }} {{ [3, 1, 2] | sort(reverse=true) }}", "[1, 2, 3] ['A', 'a', 'b'] [3, 2, 1]"),
        ("{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ [1, 2] | join(', ') }} {{ [] | length }} {{ 'abc' | count }}", "1 3 1, 2 0 3"),
        ("{{ '  hi  ' | trim }}|{{ 'hi' | upper }}|{{ 'HI' | lower }}|{{ 'hello world-foo' | title }}", "hi|HI|hi|Hello World-Foo"),
        ("{{ x | default('D') }} {{ '' | default('D') }} {{ '' | default('D', true) }}|", "D  D|"),
        ("{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='c') | join }}", "ac"),
        ("{{ ms | rejectattr('role', 'equalto', 'user') | map(attribute='c') | list }}", "['b']"),
        ("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3] | reject('equalto', 2) | list }} {{ [1, 2, 3] | sum }}",
         "[1, 3] [1, 3] 6"),
        ("{{ ['a', 'b'] | map('upper') | list }} {{ [1, 1, 2] | unique | list }} {{ [2, 5, 1] | max }} {{ [2, 5, 1] | min }}",
         "['A', 'B'] [1, 2] 5 1"),
        ("{{ {'b': 1, 'a': 2} | dictsort }} {{ {'a': 1} | items | list }} {{ 'abc' | list }}",
         "[('a', 2), ('b', 1)] [('a', 1)] ['a', 'b', 'c']"),
        ("{{ '3' | int + 1 }} {{ 'x' | int }} {{ '2.5' | float }} {{ 2.5 | round }} {{ 3.5 | round }} {{ -3 | abs }}",
         "4 0 2.5 2.0 4.0 3"),
        ("{{ x is defined }} {{ none is none }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is sequence }} {{ 1 is number }}",
         "False True True True True True"),
        ("{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'a' is equalto 'a' }} {{ 1 is not string }}",
         "True True True True True"),
        ("{{ {'a': 'é😀', 'b': [1, 2.5, none, true]} | tojson }}", "{\"a\": \"é😀\", \"b\": [1, 2.5, null, true]}"),
        ("{{ {'a': 'é😀'} | tojson(ensure_ascii=true) }}", "{\"a\": \"\\u00e9\\ud83d\\ude00\"}"),
        ("{{ {'a': [1, {}], 'b': []} | tojson(indent=2) }}", "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}"),
        ("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}", "{\"a\": 2, \"b\": 1}"),
        ("{{ 'a\nb' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}", "a\n  b|  a\n  b"),
    ])
    func filters(source: String, expected: String) throws {
        let ms: JinjaValue = [["role": "user", "c": "a"], ["role": "assistant", "c": "b"], ["role": "user", "c": "c"]]
        #expect(try render(source, ["ms": ms]) == expected)
    }

    @Test("loop variables, loop filter, else, break/continue")
    func loops() throws {
        #expect(try render(
            "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
                + "{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}")
            == "1032TrueFalse3|2121FalseFalse3|3210FalseTrue3|")
        #expect(try render("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}/{{ loop.length }} {% endfor %}") == "2/2 4/2 ")
        #expect(try render("{% for x in [] %}x{% else %}empty{% endfor %}") == "empty")
        #expect(try render("{% for x in range(9) %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}") == "023")
        #expect(try render("{% for x in [1, 2] %}{{ loop.previtem is defined }}{{ loop.nextitem | default('-') }}{{ loop.cycle('a', 'b') }} {% endfor %}") == "False2a True-b ")
        #expect(try render("{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}") == "37")
        #expect(try render("{% for x in [1] %}{% for y in [1, 2] %}{{ loop.depth }}{{ loop.length }}{% endfor %}{{ loop.length }}{% endfor %}") == "12121")
    }

    @Test("scoping: loop sets do not leak, namespaces do, if does not open a scope")
    func scoping() throws {
        #expect(try render("{% set x = 'o' %}{% for i in [1, 2] %}[{{ x }}]{% set x = i %}[{{ x }}]{% endfor %}{{ x }}")
            == "[o][1][o][2]o")
        #expect(try render("{% set x = 'o' %}{% if true %}{% set x = 'i' %}{% endif %}{{ x }}") == "i")
        #expect(try render("{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}")
            == "6")
        #expect(try render("{% set a, b = 1, 2 %}{{ b }}{{ a }}") == "21")
        #expect(try render("{% set t %}  x {{ 1 }}{% endset %}[{{ t }}]") == "[  x 1]")
        #expect(try render("{% with y = 5 %}{{ y }}{% endwith %}{{ y is defined }}") == "5False")
    }

    @Test("whitespace control as HF configures jinja2 (trim_blocks, lstrip_blocks)")
    func whitespace() throws {
        #expect(try render("a  {%- if true -%}  b  {%- endif -%}  c") == "abc")
        #expect(try render("{% if true %}\nx\n{% endif %}\ny") == "x\ny")
        // trim_blocks eats the newline after endif; lstrip_blocks leaves variable tags alone.
        #expect(try render("  {% if true %}x{% endif %}\n  {{ 'v' }}") == "x  v")
        #expect(try render("  {%+ if true %}x{% endif +%}\nz") == "  x\nz")
        #expect(try render("a {# comment #}\n  {#- c -#}  b") == "a b")
        #expect(try render("{% raw %}{{ x }}{% endraw %}") == "{{ x }}")
        #expect(try render("a\n") == "a")
        #expect(try render("a\n\n") == "a\n")
        #expect(try render("a\r\nb\rc") == "a\nb\nc")
        #expect(try render("{{ 'x' -}}   \n y") == "xy")
    }

    @Test("macros and call blocks")
    func macros() throws {
        #expect(try render("{% macro m(a, b='B') %}<{{ a }}{{ b }}>{% endmacro %}{{ m(1) }}{{ m(1, b=2) }}{{ m('x', 'y') }}")
            == "<1B><12><xy>")
        #expect(try render("{% macro w() %}[{{ caller() }}]{% endmacro %}{% call w() %}inner{% endcall %}") == "[inner]")
        #expect(try render("{% filter upper %}abc{% endfilter %}") == "ABC")
        // Unknown filters in branches that never run are fine, as in jinja2.
        #expect(try render("{% if false %}{{ x | from_json }}{% endif %}ok") == "ok")
        #expect(try render("{{ '{}-{0}-{k}-{{}}'.format('a', k=1) }}") == "a-a-1-{}")
        #expect(try render("{{ none | selectattr('type') | list }} {{ none | map('upper') | list }}") == "[] []")
    }

    @Test("generation spans count Unicode scalars and follow HF's tracker")
    func generationSpans() throws {
        let t1 = try ChatTemplate(source: "😀é{% generation %}ab{% endgeneration %}c{% generation %}{% endgeneration %}")
        let r1 = try t1.render(messages: [], addGenerationPrompt: false)
        #expect(r1.text == "😀éabc")
        #expect(r1.generationSpans == [2..<4, 5..<5])
        // Nothing yielded yet and no span recorded: HF's tracker is not "active" and drops the
        // first span; the second is recorded (checked against transformers 4.57).
        let t2 = try ChatTemplate(source: "{% generation %}ab{% endgeneration %}{% generation %}c{% endgeneration %}")
        #expect(try t2.render(messages: [], addGenerationPrompt: false).generationSpans == [2..<3])
        // An empty string output counts as a yielded block.
        let t3 = try ChatTemplate(source: "{{ '' }}{% generation %}ab{% endgeneration %}")
        #expect(try t3.render(messages: [], addGenerationPrompt: false).generationSpans == [0..<2])
        // Inside a captured construct the start is what the top level had yielded before it.
        let t4 = try ChatTemplate(source: "x{% set s %}yy{% generation %}ab{% endgeneration %}{% endset %}{{ s }}")
        let r4 = try t4.render(messages: [], addGenerationPrompt: false)
        #expect(r4.text == "xyyab")
        #expect(r4.generationSpans == [1..<3])
    }

    @Test("variables: messages, add_generation_prompt, tools and documents default to none")
    func contextVariables() throws {
        let t = try ChatTemplate(source: "{{ messages | length }} {{ add_generation_prompt }} {{ tools }} {{ documents is none }} {{ bos_token }}")
        #expect(try t.render(messages: [["role": "user"]], addGenerationPrompt: true, variables: ["bos_token": "<s>"]).text
            == "1 True None True <s>")
    }

    @Test("JSON input keeps key order and Python number kinds")
    func jsonInput() throws {
        let v = try JinjaValue.parseJSON(#"{"z": 1, "a": [1.0, 2, "\u00e9\ud83d\ude00", null, true], "m": {}}"#)
        #expect(try ChatTemplate(source: "{{ v }} {{ v | tojson }}").render(messages: [], addGenerationPrompt: false,
                                                                              variables: ["v": v]).text
            == "{'z': 1, 'a': [1.0, 2, 'é😀', None, True], 'm': {}} {\"z\": 1, \"a\": [1.0, 2, \"é😀\", null, true], \"m\": {}}")
        #expect(throws: ChatTemplateError.self) { try JinjaValue.parseJSON("{\"a\": }") }
        #expect(throws: ChatTemplateError.self) { try JinjaValue.parseJSON("[1, 2") }
        #expect(throws: ChatTemplateError.self) { try JinjaValue.parseJSON(String(repeating: "[", count: 100_000)) }
    }

    @Test("assistantTokenMask keeps HF's quirks")
    func maskQuirks() {
        let offsets = [0..<0, 0..<3, 3..<6, 6..<9, 9..<12]
        #expect(assistantTokenMask(offsets: offsets, spans: [3..<9], tokenCount: 5) == [0, 0, 1, 1, 0])
        // end_token == 0 is falsy in Python: the mask runs to the end of the sequence.
        #expect(assistantTokenMask(offsets: [0..<2, 2..<4, 4..<6], spans: [0..<1], tokenCount: 3) == [1, 1, 1])
        // end char not covered by any token: also to the end.
        #expect(assistantTokenMask(offsets: [0..<2, 3..<4, 4..<6], spans: [1..<3], tokenCount: 3) == [1, 1, 1])
        // start char not covered: HF breaks out, later spans are ignored too.
        #expect(assistantTokenMask(offsets: [0..<2, 3..<4, 4..<6], spans: [2..<4, 4..<6], tokenCount: 3) == [0, 0, 0])
        #expect(assistantTokenMask(offsets: offsets, spans: [], tokenCount: 5) == [0, 0, 0, 0, 0])
    }
}
