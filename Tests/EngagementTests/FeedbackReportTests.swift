import Foundation
import MailCore
import Testing

@testable import Engagement

/// ARF reports (RFC 5965) as mailbox providers send them.
@Suite struct FeedbackReportTests {
    func crlf(_ text: String) -> [UInt8] { Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8) }

    /// The example of RFC 5965 Appendix B.1, with Tern's own message id header in the original.
    static let report = """
        From: <abusedesk@example.com>
        Date: Thu, 8 Mar 2005 17:40:36 EDT
        Subject: FW: Earn money
        To: <abuse@example.net>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=feedback-report;
             boundary="part1_13d.2e68ed54_boundary"

        --part1_13d.2e68ed54_boundary
        Content-Type: text/plain; charset="US-ASCII"
        Content-Transfer-Encoding: 7bit

        This is an email abuse report for an email message received from IP
        192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.

        --part1_13d.2e68ed54_boundary
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: SomeGenerator/1.0
        Version: 1
        Original-Mail-From: <somespammer@example.net>
        Original-Rcpt-To: <user@example.com>
        Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT
        Reporting-MTA: dns; mail.example.com
        Source-IP: 192.0.2.1

        --part1_13d.2e68ed54_boundary
        Content-Type: message/rfc822
        Content-Disposition: inline

        From: <somespammer@example.net>
        Received: from mailserver.example.net (mailserver.example.net [192.0.2.1])
                by example.com with ESMTP id M63d4137594e46;
                Thu, 08 Mar 2005 14:00:00 -0400
        To: <Undisclosed Recipients>
        Subject: Earn money
        MIME-Version: 1.0
        Content-type: text/plain
        Message-ID: <8787KJKJ3K4J3K4J3K4J3.mail@example.net>
        X-Message-Id: Qx1abc.filter0001.1
        Date: Thu, 02 Sep 2004 12:31:03 -0500

        Spam Spam Spam
        --part1_13d.2e68ed54_boundary--
        """

    @Test func readsTheReportAndTheOriginal() throws {
        let report = try #require(FeedbackReport(message: crlf(Self.report)))
        #expect(report.feedbackType == "abuse")
        #expect(report.userAgent == "SomeGenerator/1.0")
        #expect(report.originalRecipient == "user@example.com")
        #expect(report.originalMailFrom == "somespammer@example.net")
        #expect(report.sourceIP == "192.0.2.1")
        #expect(report.originalMessageID == "8787KJKJ3K4J3K4J3K4J3.mail@example.net")
        #expect(report.originalField("X-Message-Id") == "Qx1abc.filter0001.1")
    }

    @Test func headersOnlyAndEncodedOriginals() throws {
        let headersOnly = Self.report.replacingOccurrences(of: "Content-Type: message/rfc822\nContent-Disposition: inline", with: "Content-Type: text/rfc822-headers")
        #expect(try #require(FeedbackReport(message: crlf(headersOnly))).originalMessageID == "8787KJKJ3K4J3K4J3K4J3.mail@example.net")
        let original = "Message-ID: <b64@example.net>\r\nSubject: x\r\n\r\nbody\r\n"
        let encoded = "Content-Type: multipart/report; report-type=\"Feedback-Report\"; boundary=b\r\n\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: Abuse\r\n\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n\(Data(original.utf8).base64EncodedString())\r\n--b--\r\n"
        let report = try #require(FeedbackReport(message: Array(encoded.utf8)))
        #expect(report.feedbackType == "abuse" && report.originalMessageID == "b64@example.net" && report.originalRecipient == nil)
    }

    @Test func otherMessagesAreNotReports() {
        #expect(FeedbackReport(message: crlf("Subject: hi\n\nhello\n")) == nil)
        let dsn = Self.report.replacingOccurrences(of: "report-type=feedback-report", with: "report-type=delivery-status")
        #expect(FeedbackReport(message: crlf(dsn)) == nil)
        let noType = Self.report.replacingOccurrences(of: "Feedback-Type: abuse\n", with: "")
        #expect(FeedbackReport(message: crlf(noType)) == nil)
    }
}
