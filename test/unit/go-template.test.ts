// Go text/template with docker's functions (src/util/go-template.ts). The
// expected outputs and error texts were recorded from Go's text/template with
// docker/cli's FuncMap, run over the same JSON decoded into interface{}; the few
// places where berth deliberately differs are marked.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate, TemplateError } from '../../src/util/go-template.js';

interface Case {
  tpl: string;
  want?: string;
  err?: string;
}

function runCases(cases: Case[], data: unknown): void {
  for (const c of cases) {
    it(JSON.stringify(c.tpl), () => {
      if (c.err !== undefined) {
        assert.throws(() => renderTemplate(c.tpl, data), (e: unknown) => {
          assert.ok(e instanceof TemplateError);
          assert.equal(e.message, c.err);
          return true;
        });
      } else {
        assert.equal(renderTemplate(c.tpl, data), c.want);
      }
    });
  }
}

// A container as `docker inspect` returns it (trimmed).
const INSPECT = {
  "Id": "b220fabf815a8d1ef1c8f4d0d7e9d3b6f2b0f2e4c6a8e0d1c3b5a7f9e1d3c5b7",
  "Created": "2024-05-01T10:00:00.123456789Z",
  "Path": "/usr/sbin/sshd",
  "Args": [
    "-D",
    "-e"
  ],
  "State": {
    "Status": "running",
    "Running": true,
    "Paused": false,
    "Pid": 4242,
    "ExitCode": 0,
    "Error": "",
    "StartedAt": "2024-05-01T10:00:01Z",
    "Health": null
  },
  "Image": "sha256:9c7a54a9a43cca047013b82af109fe963fde787f63f9e016fdc3384500c2823d",
  "Name": "/web",
  "RestartCount": 0,
  "Mounts": [
    {
      "Type": "bind",
      "Source": "/srv/data",
      "Destination": "/data",
      "Mode": "",
      "RW": true,
      "Propagation": "rprivate"
    },
    {
      "Type": "volume",
      "Name": "v1",
      "Source": "/var/lib/docker/volumes/v1/_data",
      "Destination": "/v",
      "Driver": "local",
      "Mode": "z",
      "RW": true,
      "Propagation": ""
    }
  ],
  "Config": {
    "Hostname": "b220fabf815a",
    "User": "",
    "Env": [
      "PATH=/usr/bin:/bin",
      "LANG=C.UTF-8"
    ],
    "Cmd": [
      "/usr/sbin/sshd",
      "-D"
    ],
    "Image": "sshd:latest",
    "Labels": {
      "com.example": "hello",
      "com.example.vendor": "ACME <&>"
    },
    "ExposedPorts": {
      "22/tcp": {}
    },
    "Entrypoint": null
  },
  "HostConfig": {
    "Memory": 0,
    "CpuShares": 512,
    "Binds": [
      "/srv/data:/data"
    ]
  },
  "NetworkSettings": {
    "IPAddress": "172.17.0.2",
    "Gateway": "172.17.0.1",
    "Ports": {
      "22/tcp": [
        {
          "HostIp": "0.0.0.0",
          "HostPort": "20020"
        },
        {
          "HostIp": "::",
          "HostPort": "20020"
        }
      ],
      "443/tcp": [
        {
          "HostIp": "0.0.0.0",
          "HostPort": "8443"
        }
      ]
    },
    "Networks": {
      "bridge": {
        "IPAddress": "172.17.0.2",
        "Aliases": null
      }
    }
  }
};

const SMALL = {
  "Name": "/web",
  "Args": [
    "a",
    "b"
  ],
  "M": {
    "x": {
      "y": [
        1,
        {
          "z": "deep"
        }
      ]
    }
  },
  "S": "héllo wörld",
  "E": "",
  "Z": 0,
  "F": 1.5,
  "T": true,
  "N": null,
  "L": [],
  "O": {}
};

// The tutorial's commands, verbatim. The one with a line break inside the quoted
// port is how the tutorial wraps it; Go rejects that too.
const seeds: Case[] = [
  { tpl: "{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf 0).HostPort}} {{end}}", want: " 22/tcp -> 20020  443/tcp -> 8443 " },
  { tpl: "{{range $p, \n$conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf 0).HostPort}} {{end}}", want: " 22/tcp -> 20020  443/tcp -> 8443 " },
  { tpl: "{{(index (index .NetworkSettings.Ports \"22/tcp\") 0).HostPort}}", want: "20020" },
  { tpl: "{{(index (index .NetworkSettings.Ports \"22/\ntcp\") 0).HostPort}}", err: "template: :1: unterminated quoted string" },
  { tpl: "{{.NetworkSettings.IPAddress}}", want: "172.17.0.2" },
  { tpl: "{{.State.Pid}}", want: "4242" },
  { tpl: "{{ .State.Pid }}", want: "4242" },
  { tpl: "{{range .Mounts}}{{.Source}}{{end}}", want: "/srv/data/var/lib/docker/volumes/v1/_data" },
  { tpl: "'{{index .Config.Labels \"com.example\"}}'", want: "'hello'" },
  { tpl: "{{join .Args \" , \"}}", want: "-D , -e" },
  { tpl: "{{.Id}}\\t{{.Name}}", want: "b220fabf815a8d1ef1c8f4d0d7e9d3b6f2b0f2e4c6a8e0d1c3b5a7f9e1d3c5b7\\t/web" },
  { tpl: "{{json .Config.Labels}}", want: "{\"com.example\":\"hello\",\"com.example.vendor\":\"ACME <&>\"}" },
  // docker marshals typed structs in field order, which the Engine API JSON keeps
  // (Go sorted these keys only because the recording decoded into maps).
  { tpl: "{{json .Mounts}}", want: "[{\"Type\":\"bind\",\"Source\":\"/srv/data\",\"Destination\":\"/data\",\"Mode\":\"\",\"RW\":true,\"Propagation\":\"rprivate\"},{\"Type\":\"volume\",\"Name\":\"v1\",\"Source\":\"/var/lib/docker/volumes/v1/_data\",\"Destination\":\"/v\",\"Driver\":\"local\",\"Mode\":\"z\",\"RW\":true,\"Propagation\":\"\"}]" },
];

const fields: Case[] = [
  { tpl: "{{.Name}}", want: "/web" },
  { tpl: "{{.State.Running}}", want: "true" },
  { tpl: "{{.Config.Env}}", want: "[PATH=/usr/bin:/bin LANG=C.UTF-8]" },
  { tpl: "{{.Config.Labels}}", want: "map[com.example:hello com.example.vendor:ACME <&>]" },
  { tpl: "{{.Config.ExposedPorts}}", want: "map[22/tcp:map[]]" },
  { tpl: "{{.NetworkSettings.Ports}}", want: "map[22/tcp:[map[HostIp:0.0.0.0 HostPort:20020] map[HostIp::: HostPort:20020]] 443/tcp:[map[HostIp:0.0.0.0 HostPort:8443]]]" },
  { tpl: "{{.Config.Entrypoint}}", want: "<no value>" },
  { tpl: "{{.State.Health}}", want: "<no value>" },
  { tpl: "{{.Config.Nope}}", want: "<no value>" },
  { tpl: "{{.Nope.Deeper}}", want: "<no value>" },
  { tpl: "{{.Config.Labels.foo}}", want: "<no value>" },
  { tpl: "{{$.Name}}", want: "/web" },
  { tpl: "{{.Config.Entrypoint.X}}", err: "template: :1:9: executing \"\" at <.Config.Entrypoint.X>: nil pointer evaluating interface {}.X" },
  { tpl: "{{.Name.X}}", err: "template: :1:7: executing \"\" at <.Name.X>: can't evaluate field X in type interface {}" },
  { tpl: "{{.Args.X}}", err: "template: :1:7: executing \"\" at <.Args.X>: can't evaluate field X in type interface {}" },
  { tpl: "{{with .State}}{{.Status}}{{end}}", want: "running" },
  { tpl: "{{range .Args}}{{.X}}{{end}}", err: "template: :1:17: executing \"\" at <.X>: can't evaluate field X in type interface {}" },
  { tpl: "{{.Name 1}}", err: "template: :1:2: executing \"\" at <.Name>: Name is not a method but has arguments" },
  { tpl: "{{.Name | .Name}}", err: "template: :1:10: executing \"\" at <.Name>: Name is not a method but has arguments" },
  { tpl: "{{(.Config).Image}}", want: "sshd:latest" },
  { tpl: "{{(index .Mounts 0).Nope.X}}", want: "<no value>" },
  { tpl: "{{$x := .State}}{{$x.Status}}", want: "running" },
  { tpl: "{{$x := .State}}{{$x.Health.X}}", err: "template: :1:20: executing \"\" at <$x.Health.X>: nil pointer evaluating interface {}.X" },
];

const values: Case[] = [
  { tpl: "{{.}}", want: "map[Args:[a b] E: F:1.5 L:[] M:map[x:map[y:[1 map[z:deep]]]] N:<nil> Name:/web O:map[] S:héllo wörld T:true Z:0]" },
  { tpl: "{{.M}}", want: "map[x:map[y:[1 map[z:deep]]]]" },
  { tpl: "{{.N}}", want: "<no value>" },
  { tpl: "{{.L}} {{.O}} {{.E}}|", want: "[] map[] |" },
  { tpl: "{{.F}}", want: "1.5" },
  { tpl: "{{.T}}", want: "true" },
  { tpl: "{{range .M.x.y}}{{.}};{{end}}", want: "1;map[z:deep];" },
  { tpl: "{{.M.x.y.z}}", err: "template: :1:4: executing \"\" at <.M.x.y.z>: can't evaluate field z in type interface {}" },
  { tpl: "{{.N.x}}", err: "template: :1:4: executing \"\" at <.N.x>: nil pointer evaluating interface {}.x" },
  { tpl: "{{.Z.x}}", err: "template: :1:4: executing \"\" at <.Z.x>: can't evaluate field x in type interface {}" },
  { tpl: "{{1e6}} {{2.0}} {{1e21}} {{0.000001}} {{1.5e-7}} {{-0.0}}", want: "1e+06 2 1e+21 1e-06 1.5e-07 -0" },
  { tpl: "{{0x1F}} {{0o17}} {{0b101}} {{017}} {{1_000}} {{-5}} {{+5}} {{.5}} {{1.}} {{'a'}} {{'\\n'}} {{'\\u00e9'}} {{0x1p4}}", want: "31 15 5 15 1000 -5 5 0.5 1 97 10 233 16" },
  { tpl: "{{\"a\\tb\\x41\\101\\u00e9\\U0001F600\"}}", want: "a\tbAAé😀" },
  { tpl: "{{`raw\\n`}}", want: "raw\\n" },
  { tpl: "{{true}} {{false}}", want: "true false" },
  { tpl: "{{nil}}", err: "template: :1:2: executing \"\" at <nil>: nil is not a command" },
  { tpl: "{{\"x\" 1}}", err: "template: :1:2: executing \"\" at <\"x\">: can't give argument to non-function \"x\"" },
  { tpl: "{{9223372036854775808}}", err: "template: :1:2: executing \"\" at <9223372036854775808>: 9223372036854775808 overflows int" },
];

const control: Case[] = [
  { tpl: "{{if .T}}yes{{else}}no{{end}}", want: "yes" },
  { tpl: "{{if .E}}a{{else if .Z}}b{{else if .N}}c{{else}}d{{end}}", want: "d" },
  { tpl: "{{if not .L}}empty{{end}}", want: "empty" },
  { tpl: "{{with .E}}x{{else}}none{{end}}", want: "none" },
  { tpl: "{{with .Name}}{{.}}{{end}}", want: "/web" },
  { tpl: "{{with $v := index .M.x.y 1}}{{$v.z}}{{.z}}{{end}}", want: "deepdeep" },
  { tpl: "{{range .Args}}[{{.}}]{{else}}empty{{end}}", want: "[a][b]" },
  { tpl: "{{range .L}}x{{else}}none{{end}}", want: "none" },
  { tpl: "{{range .N}}x{{else}}nil{{end}}", want: "nil" },
  { tpl: "{{range .Nope}}x{{else}}missing{{end}}", want: "missing" },
  { tpl: "{{range $i, $e := .Args}}{{$i}}:{{$e}} {{end}}", want: "0:a 1:b " },
  { tpl: "{{range $e := .Args}}{{$e}}{{end}}", want: "ab" },
  { tpl: "{{range $k, $v := .M.x}}{{$k}}={{$v}}{{end}}", want: "y=[1 map[z:deep]]" },
  { tpl: "{{range .Args}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", want: "a" },
  { tpl: "{{range .Args}}{{if eq . \"a\"}}{{continue}}{{end}}{{.}}{{end}}", want: "b" },
  { tpl: "{{range .Args}}{{range $.Args}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}|{{end}}", want: "a|a|" },
  { tpl: "{{range .Name}}{{end}}", err: "template: :1:8: executing \"\" at <.Name>: range can't iterate over /web" },
  { tpl: "{{range .F}}{{end}}", err: "template: :1:8: executing \"\" at <.F>: range can't iterate over 1.5" },
  { tpl: "{{$v := \"out\"}}{{if .T}}{{$v := \"in\"}}{{$v}}{{end}}{{$v}}", want: "inout" },
  { tpl: "{{$v := \"out\"}}{{if .T}}{{$v = \"in\"}}{{end}}{{$v}}", want: "in" },
  { tpl: "{{$v := 1}}{{range .Args}}{{$v = .}}{{end}}{{$v}}", want: "b" },
  { tpl: "{{range .Args}}{{$.Name}}{{end}}", want: "/web/web" },
  { tpl: "{{$ = 1}}{{$}}", want: "1" },
  { tpl: "{{define \"T\"}}[{{.}}]{{end}}{{template \"T\" .Name}}{{template \"T\"}}", want: "[/web][<no value>]" },
  { tpl: "{{define \"t\"}}{{$}}|{{.}}{{end}}{{template \"t\" .Args}}", want: "[a b]|[a b]" },
  { tpl: "{{template \"t\"}}{{define \"t\"}}T{{end}}", want: "T" },
  { tpl: "{{block \"b\" .Name}}<{{.}}>{{end}}", want: "</web>" },
  { tpl: "{{define \"b\"}}over{{end}}{{block \"b\" .}}default{{end}}", err: "template: :1: template: multiple definition of template \"b\"" },
  { tpl: "{{template \"nope\"}}", err: "template: :1:11: executing \"\" at <{{template \"nope\"}}>: template \"nope\" not defined" },
  { tpl: "{{define \"a\"}}A{{end}}{{define \"b\"}}{{template \"a\"}}B{{end}}{{template \"b\"}}", want: "AB" },
  { tpl: "{{define \"x\"}}only{{end}}", want: "" },
  { tpl: "", want: "" },
  { tpl: "{{- \"a\" -}} {{- \"b\" -}}", want: "ab" },
  { tpl: "  {{- \"a\"}}  ", want: "a  " },
  { tpl: "{{\"a\" -}}\n\n  b", want: "ab" },
  { tpl: "x {{- /* c */ -}} y", want: "xy" },
  { tpl: "{{/* comment */}}x", want: "x" },
  { tpl: "a{{ -3 }}b", want: "a-3b" },
  { tpl: "a{{- 3 -}}b", want: "a3b" },
];

const builtins: Case[] = [
  { tpl: "{{and .Name .Args}}", want: "[a b]" },
  { tpl: "{{and .E .Args}}", want: "" },
  { tpl: "{{or .E .Z .N .L .O}}", want: "map[]" },
  { tpl: "{{or .E \"dflt\"}}", want: "dflt" },
  { tpl: "{{.E | or \"dflt\"}}", want: "dflt" },
  { tpl: "{{and 1 (len .Nope)}}", err: "template: :1:9: executing \"\" at <len .Nope>: error calling len: reflect: call of reflect.Value.Type on zero Value" },
  { tpl: "{{or 1 (len .Nope)}}", want: "1" },
  { tpl: "{{not .L}} {{not .T}}", want: "true false" },
  { tpl: "{{len .Args}} {{len .M}} {{len .S}} {{len \"héllo\"}}", want: "2 1 13 6" },
  { tpl: "{{len .N}}", err: "template: :1:2: executing \"\" at <len .N>: error calling len: len of nil pointer" },
  { tpl: "{{len 3}}", err: "template: :1:2: executing \"\" at <len 3>: error calling len: len of type int" },
  { tpl: "{{index .Args 1}}", want: "b" },
  { tpl: "{{index .Args 2}}", err: "template: :1:2: executing \"\" at <index .Args 2>: error calling index: reflect: slice index out of range" },
  { tpl: "{{index .Args 5}}", err: "template: :1:2: executing \"\" at <index .Args 5>: error calling index: index out of range: 5" },
  { tpl: "{{index .Args -1}}", err: "template: :1:2: executing \"\" at <index .Args -1>: error calling index: index out of range: -1" },
  { tpl: "{{index .Args \"x\"}}", err: "template: :1:2: executing \"\" at <index .Args \"x\">: error calling index: cannot index slice/array with type string" },
  { tpl: "{{index .M 1}}", err: "template: :1:2: executing \"\" at <index .M 1>: error calling index: value has type int; should be string" },
  { tpl: "{{index .Nope 1}}", err: "template: :1:2: executing \"\" at <index .Nope 1>: error calling index: index of untyped nil" },
  { tpl: "{{index .N 0}}", err: "template: :1:2: executing \"\" at <index .N 0>: error calling index: index of untyped nil" },
  { tpl: "{{index \"abc\" 1}}", want: "98" },
  { tpl: "{{index . \"M\" \"x\" \"y\" 1 \"z\"}}", want: "deep" },
  { tpl: "{{index .M \"nope\"}}", want: "<no value>" },
  { tpl: "{{index .M \"nope\" \"x\"}}", err: "template: :1:2: executing \"\" at <index .M \"nope\" \"x\">: error calling index: index of nil pointer" },
  { tpl: "{{index 3 1}}", err: "template: :1:2: executing \"\" at <index 3 1>: error calling index: can't index item of type int" },
  { tpl: "{{index .Args nil}}", err: "template: :1:2: executing \"\" at <index .Args nil>: error calling index: cannot index slice/array with nil" },
  { tpl: "{{index .Args 1.0}}", err: "template: :1:2: executing \"\" at <index .Args 1.0>: error calling index: cannot index slice/array with type float64" },
  { tpl: "{{slice .Args 1}}", want: "[b]" },
  { tpl: "{{slice .Args 0 1}}", want: "[a]" },
  { tpl: "{{slice .S 1 3}}", want: "é" },
  { tpl: "{{slice .Args 2 1}}", err: "template: :1:2: executing \"\" at <slice .Args 2 1>: error calling slice: invalid slice index: 2 > 1" },
  { tpl: "{{slice .Args 0 5}}", err: "template: :1:2: executing \"\" at <slice .Args 0 5>: error calling slice: index out of range: 5" },
  { tpl: "{{slice \"abc\" 0 1 2}}", err: "template: :1:2: executing \"\" at <slice \"abc\" 0 1 2>: error calling slice: cannot 3-index slice a string" },
  { tpl: "{{slice 3}}", err: "template: :1:2: executing \"\" at <slice 3>: error calling slice: can't slice item of type int" },
  { tpl: "{{slice .Args 0 1 2 3}}", err: "template: :1:2: executing \"\" at <slice .Args 0 1 2 3>: error calling slice: too many slice indexes: 4" },
  { tpl: "{{eq .S \"héllo wörld\"}} {{eq \"a\" \"b\" \"a\"}} {{ne .Name \"/web\"}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1 2}} {{eq .F 1.5}}", want: "true true false true true true false true" },
  { tpl: "{{eq .N nil}} {{eq .Nope nil}} {{eq .L nil}} {{eq .Nope \"x\"}}", want: "true true false false" },
  // Go 1.25 names the types (the Go 1.19 that recorded this table did not).
  { tpl: "{{eq 1 \"1\"}}", err: "template: :1:2: executing \"\" at <eq 1 \"1\">: error calling eq: incompatible types for comparison: int and string" },
  { tpl: "{{lt true false}}", err: "template: :1:2: executing \"\" at <lt true false>: error calling lt: invalid type for comparison" },
  { tpl: "{{lt .Nope 1}}", err: "template: :1:2: executing \"\" at <lt .Nope 1>: error calling lt: invalid type for comparison" },
  { tpl: "{{eq .Args .Args}}", err: "template: :1:2: executing \"\" at <eq .Args .Args>: error calling eq: non-comparable type [a b]: []interface {}" },
  { tpl: "{{eq}}", err: "template: :1:2: executing \"\" at <eq>: wrong number of args for eq: want at least 1 got 0" },
  { tpl: "{{eq 1}}", err: "template: :1:2: executing \"\" at <eq 1>: error calling eq: missing argument for comparison" },
  { tpl: "{{ne 1}}", err: "template: :1:2: executing \"\" at <ne>: wrong number of args for ne: want 2 got 1" },
  { tpl: "{{print 1 2 \"a\" \"b\" 3 .Nope nil}}", want: "1 2ab3 <nil> <nil>" },
  { tpl: "{{println 1 \"a\" .Args}}", want: "1 a [a b]\n" },
  { tpl: "{{print}}", want: "" },
  { tpl: "{{html \"<a href=\\\"x\\\">&'</a>\"}}", want: "&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt;" },
  { tpl: "{{js \"it's <b>\\\"x\\\"</b> = é\"}}", want: "it\\'s \\u003Cb\\u003E\\\"x\\\"\\u003C/b\\u003E \\u003D é" },
  { tpl: "{{urlquery \"a b&c=d/é~*\"}}", want: "a+b%26c%3Dd%2F%C3%A9~%2A" },
  { tpl: "{{html 1 \"<\" 2}}", want: "1&lt;2" },
  // Go 1.22+ names the callee.
  { tpl: "{{call .Name}}", err: "template: :1:2: executing \"\" at <call .Name>: error calling call: non-function .Name of type string" },
  { tpl: "{{call nil}}", err: "template: :1:2: executing \"\" at <call nil>: error calling call: call of nil" },
];

const docker: Case[] = [
  // Key order as given (see the seed case).
  { tpl: "{{json .}}", want: "{\"Name\":\"/web\",\"Args\":[\"a\",\"b\"],\"M\":{\"x\":{\"y\":[1,{\"z\":\"deep\"}]}},\"S\":\"héllo wörld\",\"E\":\"\",\"Z\":0,\"F\":1.5,\"T\":true,\"N\":null,\"L\":[],\"O\":{}}" },
  { tpl: "{{json .M}}", want: "{\"x\":{\"y\":[1,{\"z\":\"deep\"}]}}" },
  { tpl: "{{json .N}} {{json .Nope}} {{json .L}} {{json .O}} {{json .F}} {{json .S}}", want: "null null [] {} 1.5 \"héllo wörld\"" },
  { tpl: "{{json \"<b>&</b>\\n\\u2028\"}}", want: "\"<b>&</b>\\n\\u2028\"" },
  { tpl: "{{.M | json}}", want: "{\"x\":{\"y\":[1,{\"z\":\"deep\"}]}}" },
  { tpl: "{{json}}", err: "template: :1:2: executing \"\" at <json>: wrong number of args for json: want 1 got 0" },
  { tpl: "{{json 1 2}}", err: "template: :1:2: executing \"\" at <json>: wrong number of args for json: want 1 got 2" },
  { tpl: "{{split \"a,b,c\" \",\"}}", want: "[a b c]" },
  { tpl: "{{split \"abc\" \"\"}}", want: "[a b c]" },
  { tpl: "{{split \"\" \",\"}}", want: "[]" },
  { tpl: "{{index (split \"a:b\" \":\") 1}}", want: "b" },
  { tpl: "{{join (split \"a b c\" \" \") \"-\"}}", want: "a-b-c" },
  { tpl: "{{join .Args \", \"}}", want: "a, b" },
  { tpl: "{{join .M \",\"}}", want: "map[y:[1 map[z:deep]]]" },
  { tpl: "{{join .Name \",\"}}", err: "template: :1:2: executing \"\" at <join .Name \",\">: error calling join: expected slice, got string" },
  { tpl: "{{join .Nope \",\"}}", want: "" },
  { tpl: "{{join .Args 3}}", err: "template: :1:13: executing \"\" at <3>: expected string; found 3" },
  { tpl: "{{title \"hello world-foo_bar bAz\"}}", want: "Hello World-Foo_bar BAz" },
  { tpl: "{{title \"o'neil ǆemal\"}}", want: "O'Neil ǅemal" },
  { tpl: "{{lower \"HeLLo ÀÉÎ\"}}", want: "hello àéî" },
  { tpl: "{{upper \"héllo ß\"}}", want: "HÉLLO ß" },
  { tpl: "{{upper .Nope}}", err: "template: :1:8: executing \"\" at <.Nope>: invalid value; expected string" },
  { tpl: "{{upper 1}}", err: "template: :1:8: executing \"\" at <1>: expected string; found 1" },
  { tpl: "{{upper .N}}", err: "template: :1:8: executing \"\" at <.N>: wrong type for value; expected string; got interface {}" },
  { tpl: "{{pad \"x\" 2 3}}|", want: "  x   |" },
  { tpl: "{{pad \"\" 2 3}}|", want: "|" },
  { tpl: "{{pad \"x\" -1 0}}", err: "template: :1:2: executing \"\" at <pad \"x\" -1 0>: error calling pad: strings: negative Repeat count" },
  { tpl: "{{pad \"x\" 1.5 0}}", err: "template: :1:10: executing \"\" at <1.5>: expected integer; found 1.5" },
  { tpl: "{{pad \"x\" \"1\" 0}}", err: "template: :1:10: executing \"\" at <\"1\">: expected integer; found \"1\"" },
  { tpl: "{{truncate \"abcdef\" 3}}", want: "abc" },
  { tpl: "{{truncate \"ab\" 3}}", want: "ab" },
  { tpl: "{{truncate .S 2}}|{{truncate .S 3}}", want: "h�|hé" },
  { tpl: "{{truncate \"abc\" -1}}", err: "template: :1:2: executing \"\" at <truncate \"abc\" -1>: error calling truncate: runtime error: slice bounds out of range [:-1]" },
  { tpl: "{{\"abcdef\" | truncate 3}}", err: "template: :1:22: executing \"\" at <3>: expected string; found 3" },
  { tpl: "{{truncate \"日本語\" 4}}", want: "日�" },
];

const printf: Case[] = [
  { tpl: "{{printf \"%5s|%-5s|%05d|%x|%X|%o|%b|%c|%U|%#U\" \"ab\" \"cd\" 42 255 255 8 5 65 65 65}}", want: "   ab|cd   |00042|ff|FF|10|101|A|U+0041|U+0041 'A'" },
  { tpl: "{{printf \"%.2f %e %g %G %8.3f %+d % d %t %v\" 3.14159 1234.5678 0.000012345 1e21 2.5 5 5 true .Args}}", want: "3.14 1.234568e+03 1.2345e-05 1E+21    2.500 +5  5 true [a b]" },
  { tpl: "{{printf \"%T %T %T %T %T %T %T\" .N .F .E .T .L .M (split \"a\" \",\")}}", want: "<nil> float64 string bool []interface {} map[string]interface {} []string" },
  { tpl: "{{printf \"%d %s\" \"x\" 1}}", want: "%!d(string=x) %!s(int=1)" },
  { tpl: "{{printf \"%d\"}}", want: "%!d(MISSING)" },
  { tpl: "{{printf \"%d\" 1 2}}", want: "1%!(EXTRA int=2)" },
  { tpl: "{{printf \"%\"}}", want: "%!(NOVERB)" },
  { tpl: "{{printf \"%z\" 1}}", want: "%!z(int=1)" },
  { tpl: "{{printf \"%[2]d %[1]d\" 1 2}}", want: "2 1" },
  { tpl: "{{printf \"%[5]d\" 1}}", want: "%!d(BADINDEX)" },
  { tpl: "{{printf \"%*d|%-*d|\" 5 1 5 2}}", want: "    1|2    |" },
  { tpl: "{{printf \"%.*f\" 2 3.14159}}", want: "3.14" },
  { tpl: "{{printf \"%*d\" \"x\" 1}}", want: "%!(BADWIDTH)1" },
  // JSON integers are ints here (docker's typed structs), float64 in Go's raw decoding.
  { tpl: "{{printf \"%v %s %q\" .Args .M .Args}}", want: "[a b] map[x:map[y:[%!s(int=1) map[z:deep]]]] [\"a\" \"b\"]" },
  { tpl: "{{printf \"%q %+q %#q %x % x %#x\" \"tab\\t\" \"héllo\" \"plain\" \"hi\" \"hi\" \"hi\"}}", want: "\"tab\\t\" \"h\\u00e9llo\" `plain` 6869 68 69 0x6869" },
  { tpl: "{{printf \"%s\" .Nope}}", want: "%!s(<nil>)" },
  { tpl: "{{printf \"%v\" nil}}", want: "<nil>" },
  { tpl: "{{printf \"%6.2f|%-8.3e|%08.3f|%+.1f\" 3.14159 1234.5 -3.14159 2.25}}", want: "  3.14|1.234e+03|-003.142|+2.2" },
  { tpl: "{{printf \"%.0f %.0f %.0f %.1f %.2f\" 0.5 1.5 2.5 0.05 1.005}}", want: "0 2 2 0.1 1.00" },
  { tpl: "{{printf \"%#v\" .M}}", want: "map[string]interface {}{\"x\":map[string]interface {}{\"y\":[]interface {}{1, map[string]interface {}{\"z\":\"deep\"}}}}" },
  { tpl: "{{printf \"%10.4v|\" \"abcdefgh\"}}", want: "      abcd|" },
  { tpl: "{{printf \"%.3s\" \"日本語日本語\"}}", want: "日本語" },
  { tpl: "{{printf \"%x\" -255}}", want: "-ff" },
  { tpl: "{{printf \"%08.3d\" -5}}", want: "    -005" },
  { tpl: "{{printf \"%q\" 128512}}", want: "'😀'" },
  { tpl: "{{printf \"%g %g %g %.3g\" 100000.0 1000000.0 0.0001 3.14159}}", want: "100000 1e+06 0.0001 3.14" },
  { tpl: "{{printf \"%x %X %b\" 3.5 -0.1 3.5}}", want: "0x1.cp+01 -0X1.999999999999AP-04 7881299347898368p-51" },
  { tpl: "{{printf \"%#g|%#.3g|%#.0f\" 1.0 2.0 5.0}}", want: "1.00000|2.00|5." },
  { tpl: "{{.Name | printf \"%q\"}}", want: "\"/web\"" },
  { tpl: "{{\"a\" | printf \"%s-%s\" \"b\"}}", want: "b-a" },
  { tpl: "{{printf \"%v %v %v\" 1e20 123456789.0 0.1}}", want: "1e+20 1.23456789e+08 0.1" },
];

const execErrors: Case[] = [
  { tpl: "{{.Args.X}}", err: "template: :1:7: executing \"\" at <.Args.X>: can't evaluate field X in type interface {}" },
  { tpl: "{{.N.x}}", err: "template: :1:4: executing \"\" at <.N.x>: nil pointer evaluating interface {}.x" },
  { tpl: "{{(1) 2}}", err: "template: :1:2: executing \"\" at <(1) 2>: can't give argument to non-function 1" },
  { tpl: "{{$x := 1}}{{$x 2}}", err: "template: :1:13: executing \"\" at <$x>: can't give argument to non-function $x" },
  { tpl: "{{1 | .Name}}", err: "template: :1:6: executing \"\" at <.Name>: Name is not a method but has arguments" },
  { tpl: "{{.Name | printf}}", want: "/web" },
  { tpl: "{{not}}", err: "template: :1:2: executing \"\" at <not>: wrong number of args for not: want 1 got 0" },
  { tpl: "{{not 1 2}}", err: "template: :1:2: executing \"\" at <not>: wrong number of args for not: want 1 got 2" },
  { tpl: "l1\nl2 {{.M.x.y.nope}}", err: "template: :2:7: executing \"\" at <.M.x.y.nope>: can't evaluate field nope in type interface {}" },
  { tpl: "l1\nl2\n日本 {{.N.x}}", err: "template: :3:11: executing \"\" at <.N.x>: nil pointer evaluating interface {}.x" },
  { tpl: "{{range .Args}}\n  {{.X}}{{end}}", err: "template: :2:4: executing \"\" at <.X>: can't evaluate field X in type interface {}" },
  { tpl: "{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" 1}}", err: "template: :1:25: executing \"r\" at <{{template \"r\" .}}>: exceeded maximum template depth (100000)" },
  { tpl: "{{range $i, $e = .Args}}{{end}}", err: "template: :1:17: executing \"\" at <.Args>: undefined variable: $i" },
];

describe('seed examples on inspect JSON', () => runCases(seeds, INSPECT));
describe('fields and missing keys', () => runCases(fields, INSPECT));
describe('value printing and literals', () => runCases(values, SMALL));
describe('if, with, range, variables, templates, trimming', () => runCases(control, SMALL));
describe('builtin functions', () => runCases(builtins, SMALL));
describe('docker functions', () => runCases(docker, SMALL));
describe('printf formatting', () => runCases(printf, SMALL));
describe('execution errors', () => runCases(execErrors, SMALL));
