//! The header classes of [`super`] against plain binary searches over their cuts, and
//! against routing: two packets of one class answer every test alike.

use super::*;
use crate::eval::host::{InputRoute, Interface, Route};
use crate::eval::host_index::HostIndex;
use crate::source::SourceFile;
use crate::test_rng::Rng;

/// Another value of `v`'s class: a random one in the stretch between its cuts.
fn same_class(c: &Cuts, v: u32, max: u32, rng: &mut Rng) -> u32 {
    let i = c.class(v) as usize;
    let lo = if i == 0 { 0 } else { c.0[i - 1] };
    let hi = c.0.get(i).map_or(max, |n| n - 1);
    let span = u64::from(hi - lo) + 1;
    lo + (rng.next() % span) as u32
}

/// The port cuts of the context of a packet `src` > `dst` of protocol `proto`.
fn ports(c: &mut Classes, src: u32, dst: u32, proto: u8) -> (Ports, Ports) {
    let classes = u64::from(c.src.class(src)) << 32 | u64::from(c.dst.class(dst));
    let (sp, dp) = c
        .context(classes, src, dst, proto)
        .cloned()
        .expect("few contexts");
    // The blocks give what the cuts give, for every port.
    for ports in [&sp, &dp] {
        for p in 0..=u32::from(u16::MAX) {
            assert_eq!(ports.class(p), ports.blocked.cuts.class(p), "{p}");
            assert_eq!(ports.blocked.class(p), ports.blocked.cuts.class(p), "{p}");
        }
    }
    (sp, dp)
}

fn route_of(r: InputRoute) -> String {
    format!("{r:?}")
}

#[test]
fn one_class_routes_alike() {
    let host = Host::from_toml(
        "[[interface]]\nname = \"wan\"\naddresses = [\"198.51.100.2/24\"]\n\
         [[interface]]\nname = \"lan\"\naddresses = [\"10.1.0.1/16\"]\n\
         [[route]]\ndest = \"default\"\ndev = \"wan\"\n\
         [[route]]\ndest = \"10.1.0.0/16\"\ndev = \"lan\"\n\
         [[route]]\ndest = \"10.1.2.0/24\"\ndev = \"wan\"\n",
    )
    .expect("host");
    let l = crate::ir::load(&SourceFile::new("t", "*filter\nCOMMIT\n"));
    let classes = Classes::new(&l.ruleset, &host).expect("prefixes only");
    let index = HostIndex::new(&host);
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut probes: Vec<u32> = classes.src.cuts.0.clone();
    probes.extend(classes.src.cuts.0.iter().map(|c| c.wrapping_sub(1)));
    probes.extend((0..2000).map(|_| rng.next() as u32));
    for &a in &probes {
        for &b in probes.iter().step_by(7) {
            let (a2, b2) = (
                same_class(&classes.src.cuts, a, u32::MAX, &mut rng),
                same_class(&classes.dst.cuts, b, u32::MAX, &mut rng),
            );
            assert_eq!(
                route_of(host.input_route(a, b)),
                route_of(host.input_route(a2, b2)),
                "{a:#x}>{b:#x} vs {a2:#x}>{b2:#x}"
            );
            assert_eq!(index.ingress(&host, a), index.ingress(&host, a2));
            assert_eq!(index.route(&host, b), index.route(&host, b2));
            assert_eq!(index.wire_path(a), index.wire_path(a2));
        }
    }
}

#[test]
fn bounds_cut_every_rule_and_masks_that_are_no_prefix_share_nothing() {
    let host = Host::oracle(&[], &[]);
    let l = crate::ir::load(&SourceFile::new(
        "t",
        "*filter\n-A FORWARD -s 10.0.0.0/8 -p tcp -m tcp --sport 1000:1999 --dport 80\n\
         -A FORWARD -m iprange --dst-range 10.1.0.5-10.1.0.9 -p udp -m multiport --ports 53,60:70\nCOMMIT\n",
    ));
    assert!(!l.has_errors(), "{:?}", l.diagnostics);
    let mut c = Classes::new(&l.ruleset, &host).expect("prefixes only");
    let class = |cuts: &Blocked, v: u32| cuts.class(v);
    assert_ne!(class(&c.src, 0x09ff_ffff), class(&c.src, 0x0a00_0000));
    assert_eq!(class(&c.src, 0x0a00_0000), class(&c.src, 0x0aff_ffff));
    assert_ne!(class(&c.src, 0x0aff_ffff), class(&c.src, 0x0b00_0000));
    assert_ne!(class(&c.dst, 0x0a01_0004), class(&c.dst, 0x0a01_0005));
    assert_eq!(class(&c.dst, 0x0a01_0005), class(&c.dst, 0x0a01_0009));
    assert_ne!(class(&c.dst, 0x0a01_0009), class(&c.dst, 0x0a01_000a));
    // Ports are cut by the rules whose -s, -d and -p the context may pass.
    let (tcp, udp) = (6, 17);
    let (sp, dp) = ports(&mut c, 0x0a00_0001, 0x0a01_0005, tcp);
    assert_eq!(sp.class(1000), sp.class(1999));
    assert_ne!(sp.class(999), sp.class(1000));
    assert_ne!(sp.class(1999), sp.class(2000));
    assert_eq!(sp.class(53), sp.class(54));
    assert_ne!(dp.class(79), dp.class(80));
    assert_ne!(dp.class(80), dp.class(81));
    assert_eq!(dp.class(60), dp.class(70));
    let (sp, dp) = ports(&mut c, 0x0a00_0001, 0x0a01_0005, udp);
    assert_ne!(sp.class(52), sp.class(53));
    assert_ne!(sp.class(53), sp.class(54));
    assert_eq!(sp.class(60), sp.class(70));
    assert_ne!(dp.class(70), dp.class(71));
    assert_eq!(dp.class(79), dp.class(81));
    // Outside 10/8 the first rule answers no whatever the ports.
    let (sp, dp) = ports(&mut c, 0x0b00_0001, 0x0a01_0005, tcp);
    assert_eq!(sp.class(999), sp.class(1000));
    assert_eq!(dp.class(79), dp.class(80));
    // Inverted, the prefix is no reason to skip the rule's ports.
    let inv = crate::ir::load(&SourceFile::new(
        "t",
        "*filter\n-A FORWARD ! -s 10.0.0.0/8 -p tcp -m tcp --dport 80\nCOMMIT\n",
    ));
    assert!(!inv.has_errors(), "{:?}", inv.diagnostics);
    let mut ci = Classes::new(&inv.ruleset, &host).expect("prefixes only");
    let (_, dp) = ports(&mut ci, 0x0b00_0001, 0x0a01_0005, tcp);
    assert_ne!(dp.class(79), dp.class(80));
    // The blocks give what the cuts give, around every cut and at random.
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for addrs in [&c.src, &c.dst] {
        let around = addrs.cuts.0.iter().flat_map(|&c| {
            [
                c.wrapping_sub(1),
                c,
                c.wrapping_add(1),
                c | 0xffff,
                c & !0xffff,
            ]
        });
        let random = (0..10_000).map(|_| rng.next() as u32);
        let blocks = (0..1u32 << 16).flat_map(|b| [b << 16, b << 16 | 0xffff]);
        for a in around.chain(random).chain(blocks) {
            assert_eq!(addrs.class(a), addrs.cuts.class(a), "{a:#x}");
        }
    }
    let odd = crate::ir::load(&SourceFile::new(
        "t",
        "*filter\n-A FORWARD -s 10.0.0.0/255.0.255.0 -j DROP\nCOMMIT\n",
    ));
    assert!(!odd.has_errors(), "{:?}", odd.diagnostics);
    assert!(Classes::new(&odd.ruleset, &host).is_none());
    // Routes on two devices split 10/8 where they do.
    let two = Host {
        interfaces: vec![Interface {
            name: "eth1".into(),
            addrs: Vec::new(),
            mac: [2, 0, 0, 0, 0, 1],
            peer_mac: None,
        }],
        routes: vec![Route {
            dest: Ipv4Net::new(0x0a01_0000, 0xffff_0000),
            dev: "eth1".into(),
        }],
    };
    let c = Classes::new(&l.ruleset, &two).expect("prefixes only");
    assert_ne!(c.dst.class(0x0a00_ffff), c.dst.class(0x0a01_0000));
}

/// The port table filled stretch by stretch gives every port the class a search of the cuts
/// gives, with cuts at the ends of the range and in random places.
#[test]
fn port_tables_give_what_the_cuts_give() {
    let mut rng = Rng(0x5eed_7ab1_e000_0001);
    for round in 0..40 {
        let mut cuts = Cuts::default();
        if round % 2 == 0 {
            cuts.ports((0, 0));
        }
        if round % 3 == 0 {
            cuts.ports((u16::MAX, u16::MAX));
        }
        for _ in 0..rng.next() % 50 {
            let (a, b) = (rng.next() as u16, rng.next() as u16);
            cuts.ports((a.min(b), a.max(b)));
        }
        let cuts = cuts.done();
        let table = port_table(&cuts);
        assert_eq!(table.len(), 1 << 16);
        for p in 0..=u32::from(u16::MAX) {
            assert_eq!(u32::from(table[p as usize]), cuts.class(p), "{round} {p}");
        }
    }
}

/// A key moved to another conntrack state is the key the packet would get in that state:
/// what `Lanes::settle_fresh` looks up for a connection's next packet.
#[test]
fn a_key_in_another_state_is_the_key_made_in_it() {
    let rules = "*filter\n-A FORWARD -s 10.0.0.0/8 -p tcp --dport 80 -j ACCEPT\nCOMMIT\n";
    let l = crate::ir::load(&SourceFile::new("t", rules));
    let host = Host::oracle(&["192.0.2.1".parse().expect("addr")], &[]);
    let mut classes = Classes::new(&l.ruleset, &host).expect("prefixes only");
    let tuple = Tuple {
        src: "10.0.0.7".parse().expect("addr"),
        dst: "10.1.0.9".parse().expect("addr"),
        proto: 6,
        l4: L4Key::Ports {
            src: 40000,
            dst: 80,
        },
    };
    let rest = |state| Rest {
        state,
        dir: Dir::Reply,
        pkttype: 3,
        mark: 0x00ab_cdef,
    };
    let fresh = classes.key(&tuple, rest(6)).expect("ports");
    for state in 1..=6 {
        let made = classes.key(&tuple, rest(state)).expect("ports");
        assert_eq!(fresh.with_state(state), made, "{state}");
        assert_eq!(made == fresh, state == 6);
    }
}
