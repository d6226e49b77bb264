-- SPDX-License-Identifier: GPL-2.0
--
-- Wireshark/tshark dissector for cftcp: RFC 9293 TCP segments carried in
-- IPv4 protocol 253.  It checks the checksum over the pseudo-header that
-- cftcp uses (addresses, zero, protocol 253, segment length), then hands
-- the segment to Wireshark's own TCP dissector, so every tcp.* field and
-- the stream analysis work as for TCP.
--
-- Wireshark's TCP checksum check (off by default) would compute the sum
-- with protocol 6 in the pseudo-header and call every segment bad; this
-- dissector's cftcp.checksum.status is the one to read.
--
--   tshark -X lua_script:scripts/cftcp.lua -r capture.pcap
--   tshark -X lua_script:scripts/cftcp.lua -r capture.pcap \
--          -Y 'cftcp.checksum.status == 0'        (bad checksums only)
--   wireshark: copy to ~/.local/lib/wireshark/plugins/
--
-- The protocol number is a preference (cftcp.ipproto) for a module loaded
-- with another ipproto= parameter.

local cftcp = Proto("cftcp", "cftcp (TCP over IPv4 protocol 253)")

local status_names = { [0] = "Bad", [1] = "Good", [2] = "Unverified" }

local f_checksum = ProtoField.uint16("cftcp.checksum", "Checksum", base.HEX)
local f_calculated = ProtoField.uint16("cftcp.checksum.calculated",
				       "Calculated checksum", base.HEX)
local f_status = ProtoField.uint8("cftcp.checksum.status", "Checksum status",
				  base.DEC, status_names)
cftcp.fields = { f_checksum, f_calculated, f_status }

local e_bad = ProtoExpert.new("cftcp.checksum.bad", "Bad cftcp checksum",
			      expert.group.CHECKSUM, expert.severity.ERROR)
cftcp.experts = { e_bad }

cftcp.prefs.ipproto = Pref.uint("IPv4 protocol number", 253,
				"IPv4 protocol that carries cftcp segments")

local ip_src = Field.new("ip.src")
local ip_dst = Field.new("ip.dst")
local tcp_dissector = Dissector.get("tcp")
local registered = nil

-- Sum of the big-endian 16-bit words of a dotted-quad address.
local function addr_sum(addr)
	local a, b, c, d = tostring(addr):match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")

	if not a then
		return nil
	end
	return tonumber(a) * 256 + tonumber(b) + tonumber(c) * 256 + tonumber(d)
end

-- The Internet checksum of the segment with the checksum field taken as
-- zero, or nil when the capture does not hold the whole segment.
local function segment_checksum(tvb, src, dst, proto)
	local len = tvb:reported_len()
	local sum, i

	if tvb:len() < len or len < 20 then
		return nil
	end
	sum = src + dst + proto + len
	i = 0
	while i + 1 < len do
		if i ~= 16 then
			sum = sum + tvb(i, 2):uint()
		end
		i = i + 2
	end
	if i < len then
		sum = sum + tvb(i, 1):uint() * 256
	end
	while sum > 0xffff do
		sum = (sum % 0x10000) + math.floor(sum / 0x10000)
	end
	return 0xffff - sum
end

function cftcp.dissector(tvb, pinfo, tree)
	local subtree = tree:add(cftcp, tvb())
	local src = ip_src()
	local dst = ip_dst()
	local calc, sent, item

	if tvb:len() >= 18 and src and dst then
		local s = addr_sum(src.value)
		local d = addr_sum(dst.value)

		sent = tvb(16, 2):uint()
		subtree:add(f_checksum, tvb(16, 2))
		if s and d then
			calc = segment_checksum(tvb, s, d, cftcp.prefs.ipproto)
		end
	end
	if calc == nil then
		subtree:add(f_status, 2):set_generated()
	else
		subtree:add(f_calculated, calc):set_generated()
		item = subtree:add(f_status, calc == sent and 1 or 0)
		item:set_generated()
		if calc ~= sent then
			item:add_proto_expert_info(e_bad)
		end
	end
	tcp_dissector:call(tvb, pinfo, tree)
	pinfo.cols.protocol = "cftcp"
end

local function register()
	local ipproto = DissectorTable.get("ip.proto")

	if registered then
		ipproto:remove(registered, cftcp)
	end
	registered = cftcp.prefs.ipproto
	ipproto:add(registered, cftcp)
end

function cftcp.prefs_changed()
	register()
end

register()
