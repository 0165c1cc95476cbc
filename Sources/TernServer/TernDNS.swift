import DNSClient
import DNSClientNIO
import Foundation
import MailAuth
import MailService
import MailStore
import NIOPosix

/// The resolver every part of Tern uses: `[dns] nameservers`, else /etc/resolv.conf.
public enum TernDNS {
    public static func resolver(configuration: TernConfiguration) -> StubResolver {
        var servers = configuration.dns.nameservers.map { DNSServerAddress(host: $0.host, port: $0.port) }
        if servers.isEmpty, let text = try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8) {
            servers = DNSServerAddress.fromResolvConf(text)
        }
        return StubResolver(nameservers: servers, transport: NIODNSTransport(group: MultiThreadedEventLoopGroup.singleton))
    }
}
