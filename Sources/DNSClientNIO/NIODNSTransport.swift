import DNSClient
import NIOCore
import NIOPosix

/// The network edge of the stub resolver: one UDP datagram per query (RFC 1035 §4.2.1), or a
/// TCP exchange with a two-octet length prefix (RFC 1035 §4.2.2, RFC 7766) after truncation.
public struct NIODNSTransport: DNSTransport {
    let group: any EventLoopGroup

    public init(group: any EventLoopGroup) {
        self.group = group
    }

    public func exchange(_ query: [UInt8], with server: DNSServerAddress, overTCP: Bool, timeout: Duration) async throws(DNSError)
        -> [UInt8]
    {
        do {
            return try await withThrowingTaskGroup(of: [UInt8].self) { tasks in
                tasks.addTask { overTCP ? try await self.tcp(query, server) : try await self.udp(query, server) }
                tasks.addTask {
                    try await Task.sleep(for: timeout)
                    throw DNSError.timeout
                }
                defer { tasks.cancelAll() }
                guard let first = try await tasks.next() else { throw DNSError.timeout }
                return first
            }
        } catch let error as DNSError {
            throw error
        } catch {
            throw .timeout  // refused, unreachable, cancelled: this server did not answer
        }
    }

    private func udp(_ query: [UInt8], _ server: DNSServerAddress) async throws -> [UInt8] {
        let address = try SocketAddress.makeAddressResolvingHost(server.host, port: server.port)
        // A connected socket: the kernel drops datagrams from anyone else, and a server that is
        // not listening (ICMP port unreachable) fails the read at once instead of by timeout.
        let channel = try await DatagramBootstrap(group: group).connect(to: address) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: query)))
            // Only a datagram from the server we asked counts (RFC 5452 §9.1).
            for try await envelope in inbound where envelope.remoteAddress == address {
                return Array(envelope.data.readableBytesView)
            }
            throw DNSError.timeout
        }
    }

    private func tcp(_ query: [UInt8], _ server: DNSServerAddress) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: group).connect(host: server.host, port: server.port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        return try await channel.executeThenClose { inbound, outbound in
            var out = ByteBuffer()
            out.writeInteger(UInt16(query.count))
            out.writeBytes(query)
            try await outbound.write(out)
            var received = ByteBuffer()
            for try await chunk in inbound {
                var chunk = chunk
                received.writeBuffer(&chunk)
                if let length = received.getInteger(at: received.readerIndex, as: UInt16.self), received.readableBytes >= Int(length) + 2 {
                    return Array(received.readableBytesView.dropFirst(2).prefix(Int(length)))
                }
                if received.readableBytes > 65537 { break }
            }
            throw DNSError.truncatedPacket
        }
    }
}
